#ifndef PREFLIGHT_CRSVG_SHIM_H
#define PREFLIGHT_CRSVG_SHIM_H
// librsvg draws an SVG document onto a cairo surface; cairo encodes the surface as PNG. The charts' PNG files
// are made this way from the very SVG text that `plot --out FILE.svg` writes.
#include <stdlib.h>
#include <string.h>
#include <cairo.h>
#include <librsvg/rsvg.h>

/// A growing byte buffer that cairo's PNG writer appends to. Free `bytes` with `free`.
typedef struct {
    unsigned char *bytes;
    size_t length;
    size_t capacity;
} preflight_png_buffer;

static inline cairo_status_t preflight_png_append(void *closure, const unsigned char *data, unsigned int length) {
    preflight_png_buffer *b = (preflight_png_buffer *)closure;
    if (b->length + length > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 65536;
        while (cap < b->length + length) cap *= 2;
        unsigned char *grown = (unsigned char *)realloc(b->bytes, cap);
        if (!grown) return CAIRO_STATUS_NO_MEMORY;
        b->bytes = grown;
        b->capacity = cap;
    }
    memcpy(b->bytes + b->length, data, length);
    b->length += length;
    return CAIRO_STATUS_SUCCESS;
}

/// A copy of `text` for the caller (who frees it with `free`).
static inline char *preflight_strdup(const char *text) {
    size_t n = strlen(text);
    char *copy = (char *)malloc(n + 1);
    if (copy) memcpy(copy, text, n + 1);
    return copy;
}

/// Renders the SVG document `svg` (`length` bytes of UTF-8) onto a `width`×`height` white RGB canvas, the
/// document's viewport filling the canvas, and encodes it as an 8-bit PNG into `out` (which starts empty).
/// Returns 0 on success. Otherwise returns non-zero and sets `*message` to a description the caller frees
/// with `free`; `out` may then hold a partial buffer, which the caller frees too.
static inline int preflight_svg_to_png(const char *svg, size_t length, int width, int height,
                                       preflight_png_buffer *out, char **message) {
    *message = NULL;
    GError *error = NULL;
    RsvgHandle *handle = rsvg_handle_new_from_data((const guint8 *)svg, (gsize)length, &error);
    if (!handle) {
        *message = preflight_strdup(error ? error->message : "librsvg could not read the SVG");
        if (error) g_error_free(error);
        return 1;
    }
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        *message = preflight_strdup(cairo_status_to_string(cairo_surface_status(surface)));
        cairo_surface_destroy(surface);
        g_object_unref(handle);
        return 2;
    }
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    RsvgRectangle viewport = {0, 0, (double)width, (double)height};
    int rc = 0;
    if (!rsvg_handle_render_document(handle, cr, &viewport, &error)) {
        *message = preflight_strdup(error ? error->message : "librsvg could not draw the SVG");
        if (error) g_error_free(error);
        rc = 3;
    }
    cairo_destroy(cr);
    if (rc == 0) {
        cairo_surface_flush(surface);
        cairo_status_t st = cairo_surface_write_to_png_stream(surface, preflight_png_append, out);
        if (st != CAIRO_STATUS_SUCCESS) {
            *message = preflight_strdup(cairo_status_to_string(st));
            rc = 4;
        }
    }
    cairo_surface_destroy(surface);
    g_object_unref(handle);
    return rc;
}
#endif
