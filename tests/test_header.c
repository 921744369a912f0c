/* The public header compiles alone under -std=c11 -Wpedantic -Werror, and
 * the macros it promises exist. */
#include <qsim/qsim.h>

#include <stdio.h>

#if !defined(QSIM_VERSION_MAJOR) || !defined(QSIM_VERSION_NUMBER)
#error "version macros missing"
#endif

int main(void)
{
    qsim_status s = QSIM_OK;
    printf("1..1\nok 1 - header compiles as C11 (%s, %s)\n", qsim_status_string(s),
           QSIM_VERSION_STRING);
    return 0;
}
