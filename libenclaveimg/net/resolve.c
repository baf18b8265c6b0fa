/* SPDX-License-Identifier: Apache-2.0 */
/* Host names to addresses, for the host side's direct connections only
 * (getaddrinfo, blocking: enclave-nitro(7)).  The static in-enclave
 * supervisor is built with EIMG_NET_NO_RESOLVE: it never resolves a name
 * and must not link the resolver. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/net_int.h"

#ifdef EIMG_NET_NO_RESOLVE
int eimg_net_resolve(const char *name, char out[][64], int max, const char **why)
{
	(void)name;
	(void)out;
	(void)max;
	*why = "this program does not resolve host names";
	return -1;
}
#else
int eimg_net_resolve(const char *name, char out[][64], int max, const char **why)
{
	struct addrinfo hints, *res = NULL;
	int n = 0, rc;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc) {
		*why = rc == EAI_NONAME || rc == EAI_NODATA ? "no such host" : "cannot resolve the host name";
		return -1;
	}
	for (struct addrinfo *a = res; a && n < max; a = a->ai_next) {
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    getnameinfo(a->ai_addr, a->ai_addrlen, out[n], 64, NULL, 0, NI_NUMERICHOST))
			continue;
		n++;
	}
	freeaddrinfo(res);
	if (n == 0)
		*why = "no address for the host name";
	return n ? n : -1;
}
#endif
