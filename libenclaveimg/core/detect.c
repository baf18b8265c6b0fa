/* SPDX-License-Identifier: Apache-2.0 */
/* What kind of input a file is: the one detection routine of every tool. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/measure.h"
#include "core/internal.h"

static bool compressed(const uint8_t *h, size_t n)
{
	return (n >= 2 && h[0] == 0x1f && (h[1] == 0x8b || h[1] == 0x9d || h[1] == 0xa0)) ||
	       (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) || (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0) ||
	       (n >= 3 && memcmp(h, "BZh", 3) == 0) || (n >= 4 && memcmp(h, "\x04\x22\x4d\x18", 4) == 0);
}

int eimg_detect_input(const uint8_t *head, size_t len)
{
	/* A tar archive (ustar magic), or one whose first member is named EIMAGE. */
	if ((len >= 262 && memcmp(head + 257, "ustar", 5) == 0) || (len >= 7 && memcmp(head, "EIMAGE", 7) == 0))
		return EIMG_INPUT_IMAGE;
	if (len >= 8 && memcmp(head, "ECREATE\0", 8) == 0)
		return EIMG_INPUT_SGXS;
	if (len >= 4 && memcmp(head, ".eif", 4) == 0)
		return EIMG_INPUT_EIF;
	if (len >= 4 && memcmp(head, "\x7f" "ELF", 4) == 0)
		return EIMG_INPUT_ELF;
	if (len >= 12 && memcmp(head, "\x06\0\0\0\xe1\0\0\0\0\0\x01\0", 12) == 0)
		return EIMG_INPUT_SIGSTRUCT;
	if (compressed(head, len))
		return EIMG_INPUT_IMAGE;
	return EIMG_INPUT_UNKNOWN;
}

int eimg_detect_file(const char *path, int *kind, eimg_error *err)
{
	uint8_t head[512];
	size_t n = 0;
	struct stat st;
	int rc = EIMG_OK;
	if (strcmp(path, "-") == 0) {
		*kind = EIMG_INPUT_IMAGE;
		return EIMG_OK;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		rc = eimg_err(err, EIMG_EINVAL, path, "is a directory, expected an enclave image");
	while (rc == EIMG_OK && n < sizeof(head)) {
		ssize_t r = read(fd, head + n, sizeof(head) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = eimg_err_sys(err, path, "cannot read");
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc == EIMG_OK)
		*kind = n == 0 ? EIMG_INPUT_IMAGE : eimg_detect_input(head, n); /* empty: the reader says so */
	return rc;
}

int eimg_input_unknown(const char *path, eimg_error *err)
{
	return eimg_err(err, EIMG_EINVAL, path,
			"not an enclave image (.eimg), EIF, SGXS stream, SIGSTRUCT or signed ELF (unrecognised content)");
}
