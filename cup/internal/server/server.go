// Package server is `cup serve`: a control page (embedded with go:embed) and
// a JSON API over HTTP, with live LED ring updates as server-sent events.
// See cup/README.md for the API.
package server

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"cupcross.dev/cup/internal/device"
	"cupcross.dev/cup/internal/hotpath"
	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/version"
)

// MaxBodyBytes limits every request body.
const MaxBodyBytes = 16 << 10

// Options configure a Server.
type Options struct {
	Addr   string         // listen address, default 127.0.0.1:8080
	Token  string         // required on non-loopback addresses
	Device *device.Client // the coaster (or the simulator)
	Poll   time.Duration  // how often the LED ring is read, default 100ms
	Logger *log.Logger
}

// State is what GET /api/state and the event stream report.
type State struct {
	Pattern      string   `json:"pattern"`
	Color        string   `json:"color"`
	Brightness   int      `json:"brightness"`
	Speed        int      `json:"speed"`
	TemperatureC *float64 `json:"temperature_c"`
	LEDs         []string `json:"leds"`
	Connected    bool     `json:"connected"`
	Device       string   `json:"device"`
	Firmware     string   `json:"firmware,omitempty"`
	Error        string   `json:"error,omitempty"`
	Frame        uint64   `json:"frame"`
}

// Server serves the UI and API for one device.
type Server struct {
	opts     Options
	loopback bool
	mux      *http.ServeMux

	mu       sync.Mutex
	settings protocol.SetPattern
	state    State
	nLEDs    int
	subs     map[chan State]struct{}
	stopping chan struct{}
	stopOnce sync.Once
}

// CheckAddr refuses a listen address that is not loopback unless a token is
// set, and reports whether it is loopback.
func CheckAddr(addr, token string) (loopback bool, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %v; want host:port, e.g. 127.0.0.1:8080", addr, err)
	}
	loopback = host == "localhost"
	if ip := net.ParseIP(host); ip != nil {
		loopback = ip.IsLoopback()
	}
	if !loopback && token == "" {
		shown := host
		if shown == "" {
			shown = "all interfaces"
		}
		return false, fmt.Errorf("--addr %s listens on %s, which is not loopback: a token is required\nhint: add --token <secret> (or set CUP_TOKEN), or listen on 127.0.0.1", addr, shown)
	}
	return loopback, nil
}

// New checks the options and builds the server.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.Poll <= 0 {
		opts.Poll = 100 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = log.New(io.Discard, "", 0)
	}
	if opts.Device == nil {
		return nil, errors.New("server: no device")
	}
	loopback, err := CheckAddr(opts.Addr, opts.Token)
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		loopback: loopback,
		settings: protocol.SetPattern{Pattern: pixel.Rainbow, Color: pixel.RGB{R: 255, G: 136, B: 0}, Brightness: 160, Speed: 40},
		nLEDs:    pixel.DefaultLEDs,
		subs:     map[chan State]struct{}{},
		stopping: make(chan struct{}),
	}
	s.state = State{Device: opts.Device.Name(), LEDs: []string{}}
	s.routes()
	return s, nil
}

// Handler is the HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s }

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/", s.static)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path, "see cup/README.md for the API")
	})
	api := map[string]struct {
		method string
		h      http.HandlerFunc
	}{
		"/api/state":    {http.MethodGet, s.getState},
		"/api/patterns": {http.MethodGet, s.getPatterns},
		"/api/version":  {http.MethodGet, s.getVersion},
		"/api/events":   {http.MethodGet, s.events},
		"/api/pattern":  {http.MethodPost, s.postPattern},
		"/api/pixels":   {http.MethodPost, s.postPixels},
	}
	for path, e := range api {
		e := e
		s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != e.method && !(e.method == http.MethodGet && r.Method == http.MethodHead) {
				w.Header().Set("Allow", e.method)
				writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed, use %s", r.Method, r.URL.Path, e.method), "")
				return
			}
			e.h(w, r)
		})
	}
}

// ServeHTTP applies the checks common to every request, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	if s.loopback && s.opts.Token == "" && !loopbackHost(r.Host) {
		// Without a token only this machine may talk to us; a foreign Host
		// header means a DNS rebinding attempt from some web page.
		writeError(w, http.StatusForbidden, fmt.Sprintf("host %q is not this machine", r.Host), "open the UI at http://127.0.0.1 or http://localhost, or run cup serve with --token")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") && s.opts.Token != "" && !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "missing or wrong token", "send 'Authorization: Bearer <token>' (or ?token=<token> for the event stream)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	s.mux.ServeHTTP(w, r)
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) authorized(r *http.Request) bool {
	got := ""
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		got = strings.TrimPrefix(a, "Bearer ")
	} else if t := r.Header.Get("X-Cup-Token"); t != "" {
		got = t
	} else {
		got = r.URL.Query().Get("token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

type apiError struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg, hint string) {
	writeJSON(w, code, apiError{Error: msg, Hint: hint})
}

// decode reads one JSON object from a POST body; it answers the request
// itself and returns false when the body is unusable.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if strings.TrimSpace(strings.ToLower(ct)) != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: want application/json", ct), "")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("extra data after the JSON object")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("extra data after the JSON object")
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", mbe.Limit), "")
			return false
		}
		writeError(w, http.StatusBadRequest, "bad JSON body: "+err.Error(), "")
		return false
	}
	return true
}

func (s *Server) snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state
	st.Pattern = s.settings.Pattern.String()
	st.Color = s.settings.Color.Hex()
	st.Brightness = int(s.settings.Brightness)
	st.Speed = int(s.settings.Speed)
	st.LEDs = append([]string(nil), s.state.LEDs...)
	return st
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snapshot())
}

func (s *Server) getPatterns(w http.ResponseWriter, r *http.Request) {
	var names []string
	for _, p := range pixel.Patterns() {
		if p != pixel.Custom {
			names = append(names, p.String())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"patterns": names})
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"version": version.Version, "goos": runtime.GOOS, "goarch": runtime.GOARCH,
		"goarm": version.GOARM(), "cgo": hotpath.CgoEnabled, "go": runtime.Version(),
	})
}

// PatternRequest is the body of POST /api/pattern; absent fields keep their value.
type PatternRequest struct {
	Pattern    *string `json:"pattern"`
	Color      *string `json:"color"`
	Brightness *int    `json:"brightness"`
	Speed      *int    `json:"speed"`
}

func (s *Server) postPattern(w http.ResponseWriter, r *http.Request) {
	var req PatternRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	next := s.settings
	s.mu.Unlock()
	if req.Pattern != nil {
		p, err := pixel.ParsePattern(*req.Pattern)
		if err == nil && p == pixel.Custom {
			err = errors.New(`pattern "custom" is set with POST /api/pixels`)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "pattern: "+err.Error(), "")
			return
		}
		next.Pattern = p
	}
	if req.Color != nil {
		c, err := pixel.ParseHex(*req.Color)
		if err != nil {
			writeError(w, http.StatusBadRequest, "color: "+err.Error(), "")
			return
		}
		next.Color = c
	}
	if req.Brightness != nil {
		if *req.Brightness < 0 || *req.Brightness > 255 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("brightness %d: want 0..255", *req.Brightness), "")
			return
		}
		next.Brightness = uint8(*req.Brightness)
	}
	if req.Speed != nil {
		if *req.Speed < 1 || *req.Speed > 255 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("speed %d: want 1..255", *req.Speed), "")
			return
		}
		next.Speed = uint8(*req.Speed)
	}
	if next.Pattern == pixel.Custom { // leaving custom mode needs a real pattern
		next.Pattern = pixel.Solid
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.opts.Device.SetPattern(ctx, next); err != nil {
		writeError(w, http.StatusBadGateway, err.Error(), "is the coaster plugged in? cup reconnects by itself")
		return
	}
	s.mu.Lock()
	s.settings = next
	s.mu.Unlock()
	s.poll(r.Context(), false)
	writeJSON(w, http.StatusOK, s.snapshot())
}

// PixelsRequest is the body of POST /api/pixels.
type PixelsRequest struct {
	Start  int      `json:"start"`
	Pixels []string `json:"pixels"`
}

func (s *Server) postPixels(w http.ResponseWriter, r *http.Request) {
	var req PixelsRequest
	if !decode(w, r, &req) {
		return
	}
	s.mu.Lock()
	n := s.nLEDs
	s.mu.Unlock()
	if len(req.Pixels) == 0 {
		writeError(w, http.StatusBadRequest, "pixels: empty list", `send {"start":0,"pixels":["#ff0000", …]}`)
		return
	}
	if req.Start < 0 || req.Start+len(req.Pixels) > n {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("pixels %d..%d: the ring has LEDs 0..%d", req.Start, req.Start+len(req.Pixels)-1, n-1), "")
		return
	}
	m := protocol.SetPixels{Start: uint8(req.Start)}
	for i, h := range req.Pixels {
		c, err := pixel.ParseHex(h)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("pixels[%d]: %v", i, err), "")
			return
		}
		m.Pixels = append(m.Pixels, c)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := s.opts.Device.SetPixels(ctx, m); err != nil {
		writeError(w, http.StatusBadGateway, err.Error(), "")
		return
	}
	s.mu.Lock()
	s.settings.Pattern = pixel.Custom
	s.mu.Unlock()
	s.poll(r.Context(), false)
	writeJSON(w, http.StatusOK, s.snapshot())
}
