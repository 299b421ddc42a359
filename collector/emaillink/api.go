package emaillink

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"
)

// maxAPIBody bounds a POST /api/v1/links body.
const maxAPIBody = 16 << 10

// serveAPI is POST /api/v1/links: it signs the Link in the JSON body and answers its URLs
// as JSON. It needs the admin token, as "Authorization: Bearer TOKEN" or
// "X-Admin-Token: TOKEN".
func (h *handlers) serveAPI(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		apiError(ctx, fasthttp.StatusMethodNotAllowed, "use POST with a JSON body")
		return
	}
	if !authorized(ctx, h.cfg.AdminToken) {
		apiError(ctx, fasthttp.StatusUnauthorized, "missing or wrong admin token: send Authorization: Bearer TOKEN")
		return
	}
	l, err := parseLinkRequest(ctx.PostBody())
	if err != nil {
		apiError(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	if h.cfg.Sites.ByID(l.SiteID) == nil {
		apiError(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("unknown site %q: use the id of a configured site", l.SiteID))
		return
	}
	base := h.cfg.BaseURL
	if base == "" {
		base = string(ctx.URI().Scheme()) + "://" + string(ctx.Host())
	}
	urls, err := h.cfg.Signer.SignURLs(base, l)
	if err != nil {
		apiError(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, urls)
}

// parseLinkRequest decodes a Link; medium defaults to "email".
func parseLinkRequest(body []byte) (Link, error) {
	var l Link
	if len(body) > maxAPIBody {
		return l, fmt.Errorf("body over %d bytes", maxAPIBody)
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return l, fmt.Errorf("cannot parse the body as a JSON link {\"site\",\"url\",\"campaign\",...}: %w", err)
	}
	if l.SiteID == "" || l.URL == "" || l.Campaign == "" {
		return l, fmt.Errorf("site, url and campaign are required")
	}
	if l.Medium == "" {
		l.Medium = "email"
	}
	return l, nil
}

func authorized(ctx *fasthttp.RequestCtx, want string) bool {
	if want == "" {
		return false
	}
	got := ctx.Request.Header.Peek("X-Admin-Token")
	if auth := ctx.Request.Header.Peek("Authorization"); len(auth) > 7 && string(auth[:7]) == "Bearer " {
		got = auth[7:]
	}
	return subtle.ConstantTimeCompare(got, []byte(want)) == 1
}

func apiError(ctx *fasthttp.RequestCtx, status int, msg string) {
	writeJSON(ctx, status, map[string]string{"error": msg})
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = fasthttp.StatusInternalServerError, []byte(`{"error":"cannot encode the answer as JSON"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}
