/* Runtime version, from the same meson-generated macros as the header. */
#include <qsim/qsim.h>

const char *qsim_version_string(void) { return QSIM_VERSION_STRING; }

unsigned qsim_version_number(void) { return QSIM_VERSION_NUMBER; }
