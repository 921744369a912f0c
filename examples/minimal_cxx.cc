// minimal_cxx: the C++17 version of minimal.c. The C API's handles are held
// in std::unique_ptr with their free functions as deleters, so every exit
// path releases them; errors become exceptions carrying qsim_last_error().
//
//   minimal_cxx [MODEL]   (default: the bundled fmnist_cnn.onnx)
#include <qsim/qsim.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef QSIM_DATA_DIR
#define QSIM_DATA_DIR "data"
#endif

namespace {

struct ModelDeleter {
    void operator()(qsim_model *m) const noexcept { qsim_model_free(m); }
};
struct SimDeleter {
    void operator()(qsim_sim *s) const noexcept { qsim_sim_free(s); }
};
using Model = std::unique_ptr<qsim_model, ModelDeleter>;
using Sim = std::unique_ptr<qsim_sim, SimDeleter>;

void check(qsim_status st, const std::string &what)
{
    if (st != QSIM_OK)
        throw std::runtime_error(what + ": " + qsim_status_string(st) + ": " +
                                 qsim_last_error());
}

Model load_model(const std::string &path)
{
    qsim_model *m = nullptr;
    check(qsim_model_load(path.c_str(), &m), path);
    return Model(m);
}

Sim make_sim(const qsim_model *m)
{
    qsim_sim *s = nullptr;
    check(qsim_sim_create(m, nullptr, &s), "qsim_sim_create");
    return Sim(s);
}

} // namespace

int main(int argc, char **argv)
{
    try {
        const std::string path = argc > 1 ? argv[1] : QSIM_DATA_DIR "/fmnist_cnn.onnx";
        Model model = load_model(path);
        Sim sim = make_sim(model.get());

        const char *in = qsim_model_input_name(model.get(), 0);
        int32_t type = 0;
        int64_t rank = 0;
        std::vector<int64_t> dims(8);
        check(qsim_model_tensor_info(model.get(), in, &type, &rank, dims.data(), dims.size()),
              in);
        if (rank < 0)
            throw std::runtime_error(std::string("input '") + in + "' has no shape");
        dims.resize(static_cast<size_t>(rank));
        size_t n = 1;
        for (auto &d : dims) {
            if (d <= 0)
                d = 1; // symbolic batch -> 1
            n *= static_cast<size_t>(d);
        }
        std::vector<float> x(n);
        for (size_t i = 0; i < n; i++) // a ramp from -1 to 1
            x[i] = n > 1 ? -1.0f + 2.0f * static_cast<float>(i) / static_cast<float>(n - 1)
                         : 0.0f;
        check(qsim_sim_set_input(sim.get(), in, x.data(), dims.data(), dims.size()), in);
        check(qsim_sim_run(sim.get()), "qsim_sim_run");

        const char *out = qsim_model_output_name(model.get(), 0);
        const float *y = nullptr;
        const int64_t *shape = nullptr;
        size_t orank = 0, count = 1;
        check(qsim_sim_get_output(sim.get(), out, &y, &shape, &orank), out);
        std::printf("%s: shape [", out);
        for (size_t d = 0; d < orank; d++) {
            std::printf("%s%lld", d ? ", " : "", static_cast<long long>(shape[d]));
            count *= static_cast<size_t>(shape[d]);
        }
        std::printf("]\n");
        for (size_t i = 0; i < count; i++)
            std::printf("  [%zu] %.6f\n", i, static_cast<double>(y[i]));
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "minimal_cxx: %s\n", e.what());
        return 1;
    }
}
