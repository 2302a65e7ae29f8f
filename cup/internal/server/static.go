package server

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed web
var webFS embed.FS

var webRoot, _ = fs.Sub(webFS, "web")

var fileServer = http.FileServer(http.FS(webRoot))

func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": method not allowed", "")
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	fileServer.ServeHTTP(w, r)
}
