/* Annotations in the style of the kernel's verifier selftests: what the verifier must say of the
 * program that follows. The runner (annotations.ts) reads them from this source text; for the
 * compiler they are BTF declaration tags, as the kernel's test loader reads them. */
#ifndef VXO_SELFTEST_H
#define VXO_SELFTEST_H
#define __tag(x) __attribute__((btf_decl_tag("comment:" x)))
#define __success __tag("test_expect_success")
#define __failure __tag("test_expect_failure")
#define __msg(m) __tag("test_expect_msg=" m)
#define __retval(v) __tag("test_retval=" #v)
#define __log_level(n) __tag("test_log_level=" #n)
#endif
