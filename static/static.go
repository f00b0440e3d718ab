// Package static holds the files darkshare serves under /static/, embedded.
package static

import "embed"

// FS holds the static files, by path under /static/.
//
//go:embed css img js widget
var FS embed.FS
