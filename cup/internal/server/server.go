// Package server is `cup serve`: a control page (embedded with go:embed) and
// a JSON API over HTTP, with live LED ring updates as server-sent events.
// See cup/README.md for the API.
package server

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"cupcross.dev/cup/internal/device"
	"cupcross.dev/cup/internal/hotpath"
	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/protocol"
	"cupcross.dev/cup/internal/version"
)

// MaxBodyBytes limits every request body.
const MaxBodyBytes = 16 << 10

// MinTokenLen is the shortest API token accepted. With a token the Host
// guard is off (the token is the protection, also behind a reverse proxy),
// so a guessable token would open the API to any web page a browser on the
// network visits. 16 characters is what `openssl rand -hex 8` gives.
const MinTokenLen = 16

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
// set, and a token shorter than MinTokenLen, and reports whether the address
// is loopback. Messages never show the token.
func CheckAddr(addr, token string) (loopback bool, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("--addr %q: %v; want host:port, e.g. 127.0.0.1:8080", addr, err)
	}
	if n := utf8.RuneCountInString(token); token != "" && n < MinTokenLen {
		return false, fmt.Errorf("the API token (--token, --token-file or $CUP_TOKEN) is too short (%d of at least %d characters)\nhint: make one with: openssl rand -hex 16", n, MinTokenLen)
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
		return false, fmt.Errorf("--addr %s listens on %s, which is not loopback: a token is required\nhint: add --token-file FILE (or --token, or set CUP_TOKEN) with at least %d characters, e.g. from: openssl rand -hex 16; or listen on 127.0.0.1", addr, shown, MinTokenLen)
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
	if t, ok := bearer(r.Header.Get("Authorization")); ok {
		got = t
	} else if t := r.Header.Get("X-Cup-Token"); t != "" {
		got = t
	} else {
		got = r.URL.Query().Get("token")
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Token)) == 1
}

// bearer returns the credentials of an "Authorization: Bearer <token>"
// header. The scheme is case-insensitive (RFC 9110 §11.1) and may be
// followed by more than one space.
func bearer(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimLeft(rest, " "), true
}

type apiError struct {
	Error string `json:"error"`
	Hint  string `json:"hint,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(marshal(v))
	_, _ = w.Write([]byte("\n"))
}

// marshal encodes v as JSON for people and programs alike: no HTML escaping,
// so a hint reads "<token>", not "\u003ctoken\u003e" (the API never serves
// HTML, and the page sets text with textContent).
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"error":"internal error: cannot encode the answer"}`)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func writeError(w http.ResponseWriter, code int, msg, hint string) {
	writeJSON(w, code, apiError{Error: msg, Hint: hint})
}

// decode reads one JSON object from a POST body; it answers the request
// itself and returns false when the body is unusable. example is a valid
// body, quoted in the message for an empty one.
func decode(w http.ResponseWriter, r *http.Request, v any, example string) bool {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if strings.TrimSpace(strings.ToLower(ct)) != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q: want application/json", ct), "")
		return false
	}
	tooLarge := func() bool {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes (16 KiB)", MaxBodyBytes), "")
		return false
	}
	if r.ContentLength > MaxBodyBytes {
		return tooLarge()
	}
	// Read it all first (r.Body stops at MaxBodyBytes): a body over the
	// limit is 413 whatever it holds, also trailing spaces after a valid
	// object or garbage the JSON decoder would reject on its first byte.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge()
		}
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error(), "")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errExtraData
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad JSON body: "+jsonMessage(err, v), "send "+example)
		return false
	}
	return true
}

var errExtraData = errors.New("extra data after the JSON object")

// jsonMessage says what is wrong with a body in the API's own terms: field
// names as in the JSON, JSON types, never Go type names.
func jsonMessage(err error, v any) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; want a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends early"
	case errors.Is(err, errExtraData):
		return err.Error()
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("want a JSON object, got %s", article(typ.Value))
		}
		return fmt.Sprintf("field %q: want %s, got %s", typ.Field, jsonKind(typ.Type), article(typ.Value))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field ") {
		return msg + "; known fields: " + strings.Join(jsonFields(v), ", ")
	}
	return msg
}

// article puts "a"/"an" before a JSON value kind ("string" → "a string");
// values such as "number 1e30" stay as they are.
func article(kind string) string {
	switch kind {
	case "array", "object":
		return "an " + kind
	case "string", "bool", "number":
		return "a " + kind
	}
	return kind
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}

// jsonFields lists the JSON names of the fields of the struct v points to.
func jsonFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := 0; t.Kind() == reflect.Struct && i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func (s *Server) snapshot() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state
	st.Pattern = s.settings.Pattern.String()
	st.Color = s.settings.Color.Hex()
	st.Brightness = int(s.settings.Brightness)
	st.Speed = int(s.settings.Speed)
	st.LEDs = append([]string{}, s.state.LEDs...)
	return st
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.snapshot())
}

// PatternInfo describes one pattern for the UI: whether POST /api/pattern
// can select it, and which settings change its look.
type PatternInfo struct {
	Name       string `json:"name"`
	Settable   bool   `json:"settable"`
	Color      bool   `json:"color"`
	Speed      bool   `json:"speed"`
	Brightness bool   `json:"brightness"`
}

func (s *Server) getPatterns(w http.ResponseWriter, r *http.Request) {
	names := []string{}
	details := []PatternInfo{}
	for _, p := range pixel.Patterns() {
		if p.Settable() {
			names = append(names, p.String())
		}
		details = append(details, PatternInfo{Name: p.String(), Settable: p.Settable(), Color: p.UsesColor(), Speed: p.UsesSpeed(), Brightness: p.UsesBrightness()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"patterns": names, "details": details})
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
	if !decode(w, r, &req, `{"pattern":"comet","color":"#ff8800","brightness":200,"speed":60} (every field optional)`) {
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
		c, err := pixel.ParseColor(*req.Color)
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
	if !decode(w, r, &req, `{"start":0,"pixels":["#ff0000","#00ff00"]}`) {
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
		c, err := pixel.ParseColor(h)
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
