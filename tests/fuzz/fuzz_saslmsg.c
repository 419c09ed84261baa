/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: arbitrary bytes as a SaslMessage body (what an unauthenticated client
 * sends the daemon). Whatever decodes must re-encode to the same bytes, apart from the legacy
 * token length, which readers ignore; the password derivation must hold its line rule. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/codec.h"
#include "proto/saslmsg.h"

static char *copy(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct saslmsg m;
    char err[160];
    if (saslmsg_decode(data, size, &m, err, sizeof err) == 0) {
        char *app = copy(m.app_id, m.app_id_len);
        uint8_t *out;
        size_t len;
        if (!app || saslmsg_encode(app, m.token, m.token_len, &out, &len) != 0)
            abort();
        size_t head = 5 + m.app_id_len;
        if (len != size || memcmp(out, data, head) != 0 ||
            proto_load_u32(out + head) != m.token_len ||
            memcmp(out + head + 4, data + head + 4, m.token_len) != 0)
            abort();
        free(out);
        free(app);
    }
    char *secret = copy(data, size);
    char *pw = secret ? sasl_spark_password(secret) : NULL;
    if (pw) {
        size_t plain = (strlen(secret) + 2) / 3 * 4, n = strlen(pw);
        if (n != plain + (plain ? (plain - 1) / 76 : 0))
            abort();
        for (size_t i = 0; i < n; i++)
            if ((pw[i] == '\n') != (i % 77 == 76))
                abort();
    }
    free(pw);
    free(secret);
    return 0;
}
