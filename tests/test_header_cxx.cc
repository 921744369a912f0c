// The public header compiles as C++ (extern "C", no C-only constructs).
#include <qsim/qsim.h>

#include <cstdio>

int main()
{
    qsim_model *m = nullptr;
    qsim_status s = qsim_model_load("/nonexistent.onnx", &m);
    std::printf("1..1\n%s 1 - header compiles as C++ and links\n", s != QSIM_OK ? "ok" : "not ok");
    return s != QSIM_OK ? 0 : 1;
}
