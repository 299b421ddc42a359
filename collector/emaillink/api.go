package emaillink

import (
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/adminauth"
)

// maxAPIBody bounds a POST /api/v1/links body.
const maxAPIBody = 16 << 10

// serveAPI is POST /api/v1/links: it signs the Link in the JSON body and answers its URLs
// as JSON. Register puts it behind the admin token (adminauth.Guard).
func (h *handlers) serveAPI(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		adminauth.Error(ctx, fasthttp.StatusMethodNotAllowed, "use POST with a JSON body")
		return
	}
	l, err := parseLinkRequest(ctx.PostBody())
	if err != nil {
		adminauth.Error(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	if h.cfg.Sites.ByID(l.SiteID) == nil {
		adminauth.Error(ctx, fasthttp.StatusBadRequest, fmt.Sprintf("unknown site %q: use the id of a configured site", l.SiteID))
		return
	}
	base := h.cfg.BaseURL
	if base == "" {
		base = string(ctx.URI().Scheme()) + "://" + string(ctx.Host())
	}
	urls, err := h.cfg.Signer.SignURLs(base, l)
	if err != nil {
		adminauth.Error(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	adminauth.WriteJSON(ctx, fasthttp.StatusOK, urls)
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
