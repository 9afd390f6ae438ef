/* flame — a self-contained SVG flame graph: the root (all stacks) at the
 * bottom, callers below callees, each frame as wide as its share of the
 * total, a tooltip (<title>) on every frame. No script, nothing external. */
#include "prof.h"

#include <stdlib.h>
#include <string.h>

struct flame_node {
    char *name;
    double value;
    flame_node_t **kid;
    size_t nkids, cap;
};

flame_node_t *flame_new(void)
{
    flame_node_t *n = xcalloc(1, sizeof *n);
    n->name = xstrdup("all");
    return n;
}

static flame_node_t *child(flame_node_t *n, const char *name)
{
    for (size_t i = 0; i < n->nkids; i++)
        if (strcmp(n->kid[i]->name, name) == 0)
            return n->kid[i];
    if (n->nkids == n->cap) {
        n->cap = n->cap ? 2 * n->cap : 4;
        n->kid = xrealloc(n->kid, n->cap * sizeof *n->kid);
    }
    flame_node_t *c = xcalloc(1, sizeof *c);
    c->name = xstrdup(name);
    n->kid[n->nkids++] = c;
    return c;
}

void flame_add(flame_node_t *root, const char *const *frames, size_t n, double value)
{
    if (value <= 0)
        return;
    root->value += value;
    for (size_t i = 0; i < n; i++) {
        root = child(root, frames[i]);
        root->value += value;
    }
}

void flame_free(flame_node_t *n)
{
    for (size_t i = 0; i < n->nkids; i++)
        flame_free(n->kid[i]);
    free(n->kid);
    free(n->name);
    free(n);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(flame_node_t *const *)a)->name, (*(flame_node_t *const *)b)->name);
}

static size_t depth_of(const flame_node_t *n)
{
    size_t d = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        size_t k = depth_of(n->kid[i]);
        if (k > d)
            d = k;
    }
    return d + 1;
}

static void xml_escape(FILE *f, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++) {
        switch (s[i]) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if ((unsigned char)s[i] >= 0x20)
                fputc(s[i], f);
        }
    }
}

/* A warm colour chosen by the name, so a function keeps its colour. */
static void colour(const char *name, int rgb[3])
{
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    rgb[0] = 205 + (int)(h % 50);
    rgb[1] = 80 + (int)((h >> 8) % 150);
    rgb[2] = 30 + (int)((h >> 16) % 40);
}

enum { WIDTH = 1200, PAD = 10, ROW = 17, TOP = 48, CHAR_PX = 7 };

typedef struct ctx {
    FILE *f;
    double total, scale; /* px per unit */
    double ybase;        /* y of the root row */
    const char *unit_note;
} ctx_t;

static void draw(ctx_t *c, flame_node_t *n, double x, size_t level)
{
    double w = n->value * c->scale;
    if (w < 0.3)
        return;
    double y = c->ybase - (double)level * ROW;
    int rgb[3];
    colour(n->name, rgb);
    char bytes[32];
    fmt_bytes((uint64_t)(n->value + 0.5), bytes, sizeof bytes);
    fprintf(c->f, "<g><title>");
    xml_escape(c->f, n->name, SIZE_MAX);
    fprintf(c->f, " — %s, %.2f%%%s</title>", bytes, 100.0 * n->value / c->total, c->unit_note);
    fprintf(c->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"2\" fill=\"rgb(%d,%d,%d)\"/>",
            x, y, w, ROW - 1, rgb[0], rgb[1], rgb[2]);
    size_t fits = w > 2 * CHAR_PX ? (size_t)((w - 6) / CHAR_PX) : 0;
    if (fits >= 3) {
        size_t len = strlen(n->name);
        fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + ROW - 5);
        if (len <= fits)
            xml_escape(c->f, n->name, len);
        else {
            xml_escape(c->f, n->name, fits - 2);
            fputs("..", c->f);
        }
        fputs("</text>", c->f);
    }
    fputs("</g>\n", c->f);
    if (n->nkids > 1)
        qsort(n->kid, n->nkids, sizeof *n->kid, cmp_name);
    double cx = x;
    for (size_t i = 0; i < n->nkids; i++) {
        draw(c, n->kid[i], cx, level + 1);
        cx += n->kid[i]->value * c->scale;
    }
}

int flame_write_svg(const char *path, flame_node_t *root, const char *title, const char *unit_note)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t depth = depth_of(root);
    int height = TOP + (int)depth * ROW + 2 * PAD;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"monospace\" font-size=\"12\">\n",
            WIDTH, height, WIDTH, height);
    fputs("<title>", f);
    xml_escape(f, title, SIZE_MAX);
    fputs("</title>\n", f);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fdfaf4\"/>\n"
               "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">",
            WIDTH / 2);
    xml_escape(f, title, SIZE_MAX);
    char total[32];
    fmt_bytes((uint64_t)(root->value + 0.5), total, sizeof total);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"40\" text-anchor=\"middle\" fill=\"#555\">%s in all; "
               "width: share of it; hover a frame for its figures</text>\n",
            WIDTH / 2, total);
    ctx_t c = { f, root->value > 0 ? root->value : 1, 0, 0, unit_note };
    c.scale = (WIDTH - 2 * PAD) / c.total;
    c.ybase = height - PAD - ROW;
    if (root->value > 0)
        draw(&c, root, PAD, 0);
    fputs("</svg>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}
