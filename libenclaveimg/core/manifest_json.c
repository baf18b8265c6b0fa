/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave manifest's canonical JSON forms (manifest.json in the image and
 * the measured subset), and the names of modes and targets. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "eimg/manifest.h"
#include "eimg/util.h"
#include "core/internal.h"

/* ---------------------------------------------------------- canonical */

static int jset(json_t *obj, const char *key, json_t *val)
{
	if (!val)
		return -1;
	return json_object_set_new(obj, key, val);
}

static json_t *jhex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

static json_t *jstrings(char **list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, json_string(list[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *jentries(const struct eimg_manifest_entry *e, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_object();
		if (!o || jset(o, "name", json_string(e[i].name)) < 0 || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The application in the canonical nitro section: "app", or the container
 * image as resolved (eimg_nitro_resolve); nsm and env when given. */
static int nitro_app_json(json_t *sec, const struct eimg_manifest_nitro *x)
{
	int bad = 0;
	if (x->has_nsm)
		bad |= jset(sec, "nsm", json_string("nsm"));
	if (!x->image && !x->image_digest) {
		bad |= jset(sec, "app", json_string("app"));
	} else {
		bad |= jset(sec, "image", json_string("image"));
		bad |= jset(sec, "platform", json_string(x->platform));
		bad |= jset(sec, "image_digest", json_string(x->image_digest));
		bad |= jset(sec, "image_config", json_string(x->image_config));
		if (x->working_dir)
			bad |= jset(sec, "working_dir", json_string(x->working_dir));
	}
	if (x->has_env)
		bad |= jset(sec, "env", jstrings(x->env, x->env_len));
	if (x->has_supervisor) {
		bad |= jset(sec, "supervisor", json_string("supervisor"));
		bad |= jset(sec, "supervisor_sha384", json_string(x->supervisor_sha384));
	}
	return bad;
}

static int canonical(const eimg_manifest *m, bool measured, char **out, size_t *len, eimg_error *err)
{
	json_t *root = NULL, *sec = NULL;
	char *s = NULL, hex[33];
	int bad = 0;

	if (!m || (m->target != EIMG_TARGET_SGX && m->target != EIMG_TARGET_NITRO) ||
	    (m->mode != EIMG_MODE_HARDWARE && m->mode != EIMG_MODE_SIMULATION) || !m->name)
		return eimg_err(err, EIMG_EUSAGE, NULL, "canonical manifest: incomplete manifest");
	root = json_object();
	sec = json_object();
	if (!root || !sec)
		goto nomem;
	bad |= jset(root, "version", json_integer(m->version));
	bad |= jset(root, "name", json_string(m->name));
	bad |= jset(root, "target", json_string(eimg_target_name(m->target)));
	bad |= jset(root, "mode", json_string(eimg_mode_name(m->mode)));
	if (m->target == EIMG_TARGET_SGX) {
		const struct eimg_manifest_sgx *x = &m->sgx;
		bad |= jset(sec, "enclave", json_string("enclave.elf"));
		bad |= jset(sec, "heap_size", json_integer((json_int_t)x->heap_size));
		bad |= jset(sec, "stack_size", json_integer((json_int_t)x->stack_size));
		bad |= jset(sec, "threads", json_integer(x->threads));
		bad |= jset(sec, "ssa_frames", json_integer(x->ssa_frames));
		bad |= jset(sec, "ssa_frame_size", json_integer(x->ssa_frame_size));
		bad |= jset(sec, "allow_write_exec", json_boolean(x->allow_write_exec));
		if (!measured) {
			/* Signing parameters: they go into the SIGSTRUCT, not into MRENCLAVE. */
			bad |= jset(sec, "product_id", json_integer(x->product_id));
			bad |= jset(sec, "security_version", json_integer(x->security_version));
			bad |= jset(sec, "debug", json_boolean(x->debug));
			bad |= jset(sec, "xfrm", jhex(x->xfrm));
			bad |= jset(sec, "xfrm_mask", jhex(x->xfrm_mask));
			bad |= jset(sec, "misc_select", jhex(x->misc_select));
			bad |= jset(sec, "misc_mask", jhex(x->misc_mask));
			bad |= jset(sec, "kss", json_boolean(x->kss));
		}
		if (x->kss && !measured) {
			bad |= jset(sec, "isv_family_id", json_string(eimg_hex(x->isv_family_id, 16, hex)));
			bad |= jset(sec, "isv_ext_product_id", json_string(eimg_hex(x->isv_ext_product_id, 16, hex)));
		}
		bad |= jset(root, "files", jentries(m->files, m->nfiles));
		bad |= jset(root, "user_keys", jentries(m->keys, m->nkeys));
		bad |= json_object_set(root, "sgx", sec);
	} else {
		const struct eimg_manifest_nitro *x = &m->nitro;
		json_t *eg = json_object();
		if (!eg)
			goto nomem;
		if (!x->cmdline || !x->entrypoint || ((x->image || x->image_digest) && (!x->image_digest || !x->image_config ||
									       !x->platform)) ||
		    (x->has_supervisor && !x->supervisor_sha384)) {
			json_decref(eg);
			json_decref(root);
			json_decref(sec);
			return eimg_err(err, EIMG_EUSAGE, NULL, "canonical manifest: incomplete nitro section");
		}
		bad |= jset(sec, "kernel", json_string("kernel"));
		if (x->has_kernel_config)
			bad |= jset(sec, "kernel_config", json_string("kernel_config"));
		bad |= jset(sec, "cmdline", json_string(x->cmdline));
		bad |= jset(sec, "init", json_string("init"));
		bad |= nitro_app_json(sec, x);
		bad |= jset(sec, "entrypoint", jstrings(x->entrypoint, x->entrypoint_len));
		bad |= jset(sec, "memory", json_integer((json_int_t)(x->memory_mib << 20)));
		bad |= jset(sec, "cpus", json_integer(x->cpus));
		json_t *ports = json_array();
		for (size_t i = 0; ports && i < x->ningress; i++)
			bad |= json_array_append_new(ports, json_integer(x->ingress[i]));
		bad |= jset(sec, "ingress", ports);
		bad |= jset(eg, "allow", jstrings(x->egress_allow, x->negress_allow));
		bad |= jset(eg, "deny", jstrings(x->egress_deny, x->negress_deny));
		bad |= jset(sec, "egress", eg);
		bad |= json_object_set(root, "nitro", sec);
	}
	if (bad)
		goto nomem;
	s = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
	if (!s)
		goto nomem;
	size_t n = strlen(s);
	char *r = realloc(s, n + 2);
	if (!r)
		goto nomem;
	s = NULL;
	r[n] = '\n';
	r[n + 1] = '\0';
	json_decref(root);
	json_decref(sec);
	*out = r;
	if (len)
		*len = n + 1;
	return EIMG_OK;
nomem:
	/* json_string() also fails on invalid UTF-8, which a parsed manifest cannot hold. */
	free(s);
	json_decref(root);
	json_decref(sec);
	return eimg_err(err, EIMG_ENOMEM, NULL, "canonical manifest: out of memory or invalid text");
}

int eimg_manifest_canonical(const eimg_manifest *m, char **out, size_t *len, eimg_error *err)
{
	return canonical(m, false, out, len, err);
}

int eimg_manifest_measured(const eimg_manifest *m, char **out, size_t *len, eimg_error *err)
{
	if (m && m->target != EIMG_TARGET_SGX)
		return eimg_err(err, EIMG_EUSAGE, NULL, "measured manifest: only for the sgx target");
	return canonical(m, true, out, len, err);
}

const char *eimg_mode_name(int mode)
{
	switch (mode) {
	case EIMG_MODE_HARDWARE:
		return "hardware";
	case EIMG_MODE_SIMULATION:
		return "simulation";
	default:
		return "unknown";
	}
}

const char *eimg_target_name(int target)
{
	switch (target) {
	case EIMG_TARGET_SGX:
		return "sgx";
	case EIMG_TARGET_NITRO:
		return "nitro";
	default:
		return "unknown";
	}
}
