package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/darkshare/darkshare/static"
)

// DemoPath is the page that shows the share button on a sample article.
const DemoPath = "/demo"

// asset is a widget file served at a stable URL, for the snippet sites paste,
// and at a content-hashed URL that may be cached for good.
type asset struct {
	body        []byte
	contentType string
	etag        string
	stablePath  string // /static/share.js
	hashedPath  string // /static/share.3f2a1b0c9d8e.js
}

// widgetAssets loads the widget's files from the embedded static tree.
func widgetAssets() (map[string]asset, error) {
	out := make(map[string]asset)
	for name, contentType := range map[string]string{
		"share.js":  "text/javascript; charset=utf-8",
		"share.css": "text/css; charset=utf-8",
		"beacon.js": "text/javascript; charset=utf-8",
	} {
		body, err := fs.ReadFile(static.FS, "widget/"+name)
		if err != nil {
			return nil, fmt.Errorf("read widget %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:6])
		ext := path.Ext(name)
		out[name] = asset{
			body:        body,
			contentType: contentType,
			etag:        `"` + hash + `"`,
			stablePath:  "/static/" + name,
			hashedPath:  "/static/" + strings.TrimSuffix(name, ext) + "." + hash + ext,
		}
	}
	return out, nil
}

// Short enough that a new widget reaches every site within minutes; the
// ETag makes the revalidation cheap.
const stableAssetCache = "public, max-age=300"

const hashedAssetCache = "public, max-age=31536000, immutable"

func serveAsset(a asset, cacheControl string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, cacheControl)
		c.Set(fiber.HeaderETag, a.etag)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		// Other sites load these files: allow it even where they set COEP.
		c.Set("Cross-Origin-Resource-Policy", "cross-origin")
		if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
			return c.SendStatus(fiber.StatusNotModified)
		}
		c.Set(fiber.HeaderContentType, a.contentType)
		return c.Send(a.body)
	}
}

type demoPage struct {
	pageBase
	ScriptURL, ShareURL   string
	SnippetScript, Origin string
}

func (s *server) demo() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := s.layout(c)
		if err != nil {
			return err
		}
		return s.page(c, fiber.StatusOK, "demo.html", demoPage{
			pageBase:      b,
			ScriptURL:     s.assets["share.js"].hashedPath,
			ShareURL:      s.base + DemoPath,
			SnippetScript: s.base + s.assets["share.js"].stablePath,
		})
	}
}

// staticHeaders keeps browsers from reading an embedded file as another type
// than its name says.
func staticHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Next()
}
