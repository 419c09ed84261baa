/* SPDX-License-Identifier: Apache-2.0 */
/* Merge dirs and merged file names; see merged_layout.h. */
#include <config.h>

#include "server/push/merged_layout.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/block/placement.h"

/* Integer.valueOf's grammar: an optional sign, then ASCII digits, within int32. */
static bool java_int(const char *s, int32_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    if (!*p)
        return false;
    int64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
        if (v > (int64_t)INT32_MAX + 1)
            return false;
    }
    v = neg ? -v : v;
    if (v > INT32_MAX || v < INT32_MIN)
        return false;
    *out = (int32_t)v;
    return true;
}

/* A JSON value as Jackson hands it to a Map<String, String>: strings as they are, numbers and
 * booleans by their text; NULL for null. buf holds the converted text. false when Jackson
 * would refuse the map (an object or array value). */
static bool json_as_string(const json_t *v, char *buf, size_t buflen, const char **out)
{
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return true;
    }
    if (json_is_integer(v))
        snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) /* Java writes a double with a point: "1.0" */
        snprintf(buf, buflen, "%.1f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, buflen, "%s", json_is_true(v) ? "true" : "false");
    else
        return false;
    *out = buf;
    return true;
}

/* One path component that names a dir next to the block-manager dirs (beyond Spark, which
 * would resolve "/x" or "../x" anywhere). */
static bool merge_dir_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Java's Paths.get(dir).getParent() + "/" + name: repeated and trailing slashes dropped. */
static char *sibling_dir(const char *dir, const char *name)
{
    size_t len = strlen(dir), nlen = strlen(name);
    char *norm = malloc(len + nlen + 3);
    if (!norm)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (dir[i] != '/' || k == 0 || norm[k - 1] != '/')
            norm[k++] = dir[i];
    while (k > 1 && norm[k - 1] == '/')
        k--;
    while (k > 0 && norm[k - 1] != '/') /* the last component goes */
        k--;
    if (k == 0) { /* relative single component: no parent (Spark would throw) */
        free(norm);
        return NULL;
    }
    if (k > 1) /* "/a/b/" -> "/a", but keep the root's slash */
        k--;
    if (norm[k - 1] != '/')
        norm[k++] = '/';
    memcpy(norm + k, name, nlen + 1);
    return norm;
}

enum merge_info merge_dirs_parse(const char *shuffle_manager, char *const *local_dirs,
                                 uint32_t n_dirs, int32_t sub_dirs, struct merge_dirs *out,
                                 char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = 0;
    const char *colon = shuffle_manager ? strchr(shuffle_manager, ':') : NULL;
    if (!colon)
        return MERGE_INFO_NONE;
    json_error_t jerr;
    /* Jackson reads the first object and ignores what follows (Spark's stray "}}") */
    json_t *root = json_loads(colon + 1, JSON_DISABLE_EOF_CHECK, &jerr);
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "merge dir info is not a JSON object: %s",
                 root ? "not an object" : jerr.text);
        json_decref(root);
        return MERGE_INFO_NONE;
    }
    char dir_buf[64], attempt_buf[64];
    const char *merge_dir, *attempt;
    if (!json_as_string(json_object_get(root, "mergeDir"), dir_buf, sizeof dir_buf, &merge_dir) ||
        !json_as_string(json_object_get(root, "attemptId"), attempt_buf, sizeof attempt_buf,
                        &attempt)) {
        snprintf(err, errlen, "merge dir info holds a value that is not a string");
        json_decref(root);
        return MERGE_INFO_NONE;
    }
    enum merge_info rc = MERGE_INFO_INVALID;
    int32_t attempt_id = MERGE_NO_ATTEMPT;
    if (json_object_get(root, "attemptId") && !attempt) {
        snprintf(err, errlen, "java.lang.NumberFormatException: Cannot parse null string: null");
    } else if (attempt && !java_int(attempt, &attempt_id)) {
        snprintf(err, errlen, "java.lang.NumberFormatException: For input string: \"%.100s\"",
                 attempt);
    } else if (!merge_dir) {
        snprintf(err, errlen,
                 "java.lang.IllegalArgumentException: Failed to get the merge directory "
                 "information from the shuffleManagerMeta %.400s in executor registration message",
                 shuffle_manager);
    } else if (!merge_dir_name_ok(merge_dir)) {
        snprintf(err, errlen,
                 "java.lang.IllegalArgumentException: mergeDir '%.100s' is not a single path "
                 "component",
                 merge_dir);
    } else if (n_dirs == 0 || sub_dirs <= 0) {
        snprintf(err, errlen, "java.lang.IllegalArgumentException: no local dirs");
    } else {
        out->dirs = calloc(n_dirs, sizeof(char *));
        rc = out->dirs ? MERGE_INFO_OK : MERGE_INFO_INVALID;
        for (uint32_t i = 0; rc == MERGE_INFO_OK && i < n_dirs; i++) {
            out->dirs[i] = sibling_dir(local_dirs[i], merge_dir);
            out->n_dirs = i + 1;
            if (!out->dirs[i]) {
                snprintf(err, errlen,
                         "java.lang.IllegalArgumentException: local dir '%.200s' has no parent",
                         local_dirs[i]);
                rc = MERGE_INFO_INVALID;
            }
        }
        out->attempt_id = attempt_id;
        out->sub_dirs = sub_dirs;
        if (rc != MERGE_INFO_OK)
            merge_dirs_free(out);
    }
    json_decref(root);
    return rc;
}

int merge_dirs_copy(struct merge_dirs *dst, const struct merge_dirs *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->attempt_id = src->attempt_id;
    dst->sub_dirs = src->sub_dirs;
    dst->dirs = calloc(src->n_dirs ? src->n_dirs : 1, sizeof(char *));
    if (!dst->dirs)
        return -1;
    for (uint32_t i = 0; i < src->n_dirs; i++) {
        dst->dirs[i] = strdup(src->dirs[i]);
        dst->n_dirs = i + 1;
        if (!dst->dirs[i]) {
            merge_dirs_free(dst);
            return -1;
        }
    }
    return 0;
}

void merge_dirs_free(struct merge_dirs *d)
{
    for (uint32_t i = 0; d->dirs && i < d->n_dirs; i++)
        free(d->dirs[i]);
    free(d->dirs);
    memset(d, 0, sizeof(*d));
}

int merged_file_name(const char *app, int32_t shuffle_id, int32_t shuffle_merge_id,
                     int32_t reduce_id, enum merged_file kind, char *buf, size_t buflen)
{
    static const char *const ext[] = {
        [MERGED_DATA] = "data", [MERGED_INDEX] = "index", [MERGED_META] = "meta"};
    int n = snprintf(buf, buflen, "shuffleMerged_%s_%" PRId32 "_%" PRId32 "_%" PRId32 ".%s", app,
                     shuffle_id, shuffle_merge_id, reduce_id, ext[kind]);
    return n < 0 || (size_t)n >= buflen ? -1 : 0;
}

int merged_file_path(const struct merge_dirs *d, const char *app, int32_t shuffle_id,
                     int32_t shuffle_merge_id, int32_t reduce_id, enum merged_file kind, char *buf,
                     size_t buflen)
{
    char name[320];
    if (merged_file_name(app, shuffle_id, shuffle_merge_id, reduce_id, kind, name, sizeof name) < 0)
        return -1;
    return placement_path((const char *const *)d->dirs, d->n_dirs, d->sub_dirs, name, buf, buflen);
}
