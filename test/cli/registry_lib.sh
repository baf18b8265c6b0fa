# SPDX-License-Identifier: Apache-2.0
# Shared by the registry tests (test_registry*.sh): a real registry
# (Debian's docker-registry, the CNCF distribution) started on 127.0.0.1 with a free port,
# a temporary storage folder and config, stopped on exit; the signed images and keys.
# Source it after lib.sh.
PY=${PYTHON:-/usr/bin/python3}
HELP="$PY $EIMG_TOP/test/cli/oci_registry.py"
B="$EIMG_TOP/${BUILDDIR:-build}"
REG=$(command -v docker-registry || true)
[ -n "$REG" ] || { echo "skipped: docker-registry not installed (apt-get install docker-registry)"; exit 77; }
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
[ -d "$B/examples/hello" ] || { echo "examples not built (make examples)"; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$_t_root"; }
trap cleanup EXIT

# start_registry DIR [AUTH-YAML]: a registry storing into DIR/data; sets PORT
start_registry() {
	local dir=$1 port
	port=$($HELP port) || exit 1
	mkdir -p "$dir/data"
	cat > "$dir/config.yml" <<Y
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
${2:-}
Y
	"$REG" serve "$dir/config.yml" >"$dir/log" 2>&1 &
	pids+=($!)
	$HELP wait "http://127.0.0.1:$port/v2/" || { cat "$dir/log"; exit 1; }
	PORT=$port
}
blob_file() { echo "$1/data/docker/registry/v2/blobs/sha256/${2:7:2}/${2:7}/data"; }
flip_byte() { printf 'X' | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
json_field() { "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

# registry_setup: the setup case (keys, a signed SGX and Nitro image, one registry: $R)
registry_setup() {
	case_begin setup
	S=$PWD
	export SOURCE_DATE_EPOCH=0
	openssl genrsa -3 -out release.pem 3072 2>/dev/null && openssl pkey -in release.pem -pubout -out release.pub || exit 1
	openssl genrsa -3 -out other.pem 3072 2>/dev/null && openssl pkey -in other.pem -pubout -out other.pub || exit 1
	openssl ecparam -name secp384r1 -genkey -noout -out nitro.key 2>/dev/null &&
		openssl req -x509 -new -key nitro.key -subj /CN=release -days 30 -out nitro.pem 2>/dev/null &&
		openssl pkey -in nitro.key -pubout -out nitro.pub || exit 1
	expect 0 enclave-build -q -f "$B/examples/hello/enclave.yaml" -o hello.eimg
	expect 0 enclave-sign --in-place -k release.pem hello.eimg
	expect 0 enclave-build -q -f "$B/examples/nitro/enclave.yaml" -o app.eimg --eif app-unsigned.eif
	expect 0 enclave-sign --in-place -k nitro.key --cert nitro.pem app.eimg
	MRE=$(enclave-measure --json hello.eimg | json_field mrenclave)
	[ ${#MRE} = 64 ] || _t_failmsg "no MRENCLAVE from enclave-measure"
	start_registry "$S/reg"
	R=oci://127.0.0.1:$PORT
	mkdir -p tmp
}
