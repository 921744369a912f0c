/* libqsim: symbol visibility and C++ linkage for the public header. */
#ifndef QSIM_EXPORT_H
#define QSIM_EXPORT_H

/* Every public function carries QSIM_API; everything else in the library is
 * built with hidden visibility. Embedders may predefine QSIM_API. */
#ifndef QSIM_API
#  if defined(__GNUC__) && __GNUC__ >= 4
#    define QSIM_API __attribute__((visibility("default")))
#  else
#    define QSIM_API
#  endif
#endif

#ifdef __cplusplus
#  define QSIM_BEGIN_DECLS extern "C" {
#  define QSIM_END_DECLS }
#else
#  define QSIM_BEGIN_DECLS
#  define QSIM_END_DECLS
#endif

#endif /* QSIM_EXPORT_H */
