/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-sign's command line: the options into one struct, and the checks
 * that a command's options fit together (each a usage error when not). */
#ifndef EIMG_SIGN_OPTIONS_H
#define EIMG_SIGN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <enclaveimg.h>
#include <eimg/sigstruct.h>

enum cmd { CMD_SIGN, CMD_EXPORT, CMD_ATTACH, CMD_VERIFY, CMD_SHOW, CMD_KEY };

struct sign_args {
	int cmd;
	const char *input;
	struct eimg_key_source key;
	const char *output;
	bool force;
	const char *date_arg;
	const char *sgxs;
	bool have_mrenclave;
	uint8_t mrenclave[32];
	bool digest;
	const char *signature;
	const char *pubkey;
	const char *cert;
	bool have_mrsigner;
	uint8_t mrsigner[32];
	const char *constraint;
	bool json, quiet, in_place;
	const char *print;
	bool have_fields;          /* any field option given */
	bool have_family, have_extprod;
	struct eimg_sign_field_options fields;
};

/* Parses the command line into *a: -1 to go on, else the exit code (--help
 * and --version print and exit). */
int sign_parse_args(int argc, char **argv, struct sign_args *a);

/* Whether a command's options fit: -1 when they do, else the exit code of
 * the usage error (the message printed). */
int sign_check_key(const struct sign_args *a);
int sign_check_nitro(const struct sign_args *a);
int sign_check_sgx(const struct sign_args *a);
int sign_check_verify(const struct sign_args *a);
/* --isvfamilyid and --isvextprodid need --kss. */
int sign_check_kss(const struct sign_args *a);

#endif
