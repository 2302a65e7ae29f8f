package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cupcross.dev/cup/internal/device"
	"cupcross.dev/cup/internal/pixel"
	"cupcross.dev/cup/internal/sim"
)

func newTestServer(t *testing.T, token string) (*Server, *httptest.Server) {
	t.Helper()
	d, err := sim.New(pixel.DefaultLEDs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Addr: "127.0.0.1:0", Token: token, Device: device.OpenSim(d), Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.hello(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func do(t *testing.T, ts *httptest.Server, method, path, ctype, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
		}
	}
	return res, m
}

const js = "application/json"

func TestAPIBadInput(t *testing.T) {
	_, ts := newTestServer(t, "")
	tests := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"unknown pattern", "POST", "/api/pattern", js, `{"pattern":"disco"}`, 400},
		{"custom via pattern", "POST", "/api/pattern", js, `{"pattern":"custom"}`, 400},
		{"bad colour", "POST", "/api/pattern", js, `{"color":"#12345z"}`, 400},
		{"brightness too big", "POST", "/api/pattern", js, `{"brightness":256}`, 400},
		{"brightness negative", "POST", "/api/pattern", js, `{"brightness":-1}`, 400},
		{"speed zero", "POST", "/api/pattern", js, `{"speed":0}`, 400},
		{"wrong type", "POST", "/api/pattern", js, `{"brightness":"high"}`, 400},
		{"unknown field", "POST", "/api/pattern", js, `{"patern":"solid"}`, 400},
		{"not JSON", "POST", "/api/pattern", js, `pattern=solid`, 400},
		{"two objects", "POST", "/api/pattern", js, `{"speed":3}{"speed":4}`, 400},
		{"empty body", "POST", "/api/pattern", js, ``, 400},
		{"form content type", "POST", "/api/pattern", "application/x-www-form-urlencoded", `{"pattern":"solid"}`, 415},
		{"no content type", "POST", "/api/pattern", "", `{"pattern":"solid"}`, 415},
		{"GET on POST endpoint", "GET", "/api/pattern", "", ``, 405},
		{"POST on GET endpoint", "POST", "/api/state", js, `{}`, 405},
		{"unknown endpoint", "GET", "/api/nope", "", ``, 404},
		{"pixels past the end", "POST", "/api/pixels", js, `{"start":23,"pixels":["#ffffff","#ffffff"]}`, 400},
		{"pixels negative start", "POST", "/api/pixels", js, `{"start":-1,"pixels":["#ffffff"]}`, 400},
		{"pixels empty", "POST", "/api/pixels", js, `{"start":0,"pixels":[]}`, 400},
		{"pixels bad colour", "POST", "/api/pixels", js, `{"start":0,"pixels":["bluish"]}`, 400},
		{"pixels huge start", "POST", "/api/pixels", js, `{"start":1e30,"pixels":["#fff"]}`, 400},
	}
	for _, tc := range tests {
		res, body := do(t, ts, tc.method, tc.path, tc.ctype, tc.body, nil)
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, res.StatusCode, tc.want, body)
			continue
		}
		if msg, _ := body["error"].(string); msg == "" {
			t.Errorf("%s: no JSON error message: %v", tc.name, body)
		}
	}
	// the server still works after all that
	res, body := do(t, ts, "POST", "/api/pattern", js, `{"pattern":"solid","color":"#00ff00","brightness":255}`, nil)
	if res.StatusCode != 200 || body["pattern"] != "solid" || body["color"] != "#00ff00" {
		t.Fatalf("good request after bad ones: %d %v", res.StatusCode, body)
	}
	leds, _ := body["leds"].([]any)
	if len(leds) != pixel.DefaultLEDs || leds[0] != "#00ff00" {
		t.Fatalf("leds after solid green: %v", leds)
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// Bodies over MaxBodyBytes get 413 whatever they hold (issue 10: a valid
// object followed by spaces, and 100 MB of zero bytes, got 400).
func TestAPIBodyLimit(t *testing.T) {
	_, ts := newTestServer(t, "")
	const hundredMB = 100 << 20
	tests := []struct {
		name   string
		body   func() io.Reader
		length int64 // Content-Length; -1: chunked, the server cannot know in advance
		path   string
	}{
		{"one huge pixel string", func() io.Reader {
			return strings.NewReader(`{"start":0,"pixels":["` + strings.Repeat("f", MaxBodyBytes) + `"]}`)
		}, -1, "/api/pixels"},
		{"valid object then 17,000 spaces", func() io.Reader {
			return strings.NewReader(`{"pattern":"solid"}` + strings.Repeat(" ", 17000))
		}, int64(len(`{"pattern":"solid"}`) + 17000), "/api/pattern"},
		{"valid object then 17,000 spaces, chunked", func() io.Reader {
			return strings.NewReader(`{"pattern":"solid"}` + strings.Repeat(" ", 17000))
		}, -1, "/api/pattern"},
		{"100 MB of zero bytes", func() io.Reader { return io.LimitReader(zeros{}, hundredMB) }, hundredMB, "/api/pattern"},
		{"100 MB of zero bytes, chunked", func() io.Reader { return io.LimitReader(zeros{}, hundredMB) }, -1, "/api/pixels"},
	}
	for _, tc := range tests {
		req, err := http.NewRequest("POST", ts.URL+tc.path, tc.body())
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = tc.length
		req.Header.Set("Content-Type", js)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d (%v), want 413", tc.name, res.StatusCode, body)
		}
		if msg, _ := body["error"].(string); !strings.Contains(msg, "16 KiB") {
			t.Errorf("%s: error %q does not state the limit", tc.name, msg)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s: took %v (the server read the whole body?)", tc.name, el)
		}
	}
	// just under the limit is fine
	okBody := `{"pattern":"solid"}` + strings.Repeat(" ", MaxBodyBytes-len(`{"pattern":"solid"}`))
	if res, body := do(t, ts, "POST", "/api/pattern", js, okBody, nil); res.StatusCode != 200 {
		t.Errorf("a body of exactly %d bytes: %d %v", MaxBodyBytes, res.StatusCode, body)
	}
}

// Error messages are for people: JSON field names and JSON types, no Go
// type names, no HTML escapes (issue 10).
func TestAPIMessages(t *testing.T) {
	_, ts := newTestServer(t, "0123456789abcdef")
	auth := map[string]string{"Authorization": "Bearer 0123456789abcdef"}
	tests := []struct {
		name, path, body string
		hdr              map[string]string
		want             int
		has              []string
	}{
		{"array instead of object", "/api/pattern", `[1]`, auth, 400, []string{"want a JSON object, got an array"}},
		{"string for a number", "/api/pattern", `{"brightness":"high"}`, auth, 400, []string{`field "brightness": want a whole number, got a string`}},
		{"number too big for the field", "/api/pixels", `{"start":1e30,"pixels":["#fff"]}`, auth, 400, []string{`field "start": want a whole number`}},
		{"number for a list", "/api/pixels", `{"start":0,"pixels":7}`, auth, 400, []string{`field "pixels": want a list`}},
		{"unknown field", "/api/pattern", `{"patern":"solid"}`, auth, 400, []string{`unknown field "patern"`, "known fields: pattern, color, brightness, speed"}},
		{"syntax error", "/api/pattern", `{"pattern":solid}`, auth, 400, []string{"not valid JSON at byte", "invalid character"}},
		{"empty body", "/api/pattern", ``, auth, 400, []string{"empty", `{"pattern":"comet"`}},
		{"cut short", "/api/pattern", `{"pattern":"so`, auth, 400, []string{"ends early"}},
		{"two objects", "/api/pattern", `{"speed":3}{"speed":4}`, auth, 400, []string{"extra data after the JSON object"}},
		{"colour name typo", "/api/pattern", `{"color":"reddish"}`, auth, 400, []string{"#rrggbb", "red"}},
		{"colour by name works", "/api/pattern", `{"pattern":"solid","color":"red"}`, auth, 200, []string{"#ff0000"}},
		{"no token: the hint is readable", "/api/pattern", `{}`, nil, 401, []string{"Bearer <token>"}},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest("POST", ts.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", js)
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d: %s", tc.name, res.StatusCode, tc.want, raw)
		}
		var ans map[string]any
		if err := json.Unmarshal(raw, &ans); err != nil {
			t.Fatalf("%s: answer is not JSON: %s", tc.name, raw)
		}
		text := fmt.Sprint(ans["error"], "\n", ans["hint"], "\n", ans["color"])
		for _, h := range tc.has {
			if !strings.Contains(text, h) {
				t.Errorf("%s: answer %s does not contain %q", tc.name, raw, h)
			}
		}
		for _, bad := range []string{`\u003c`, `\u003e`, `\u0026`, "Go value", "Go struct", "server.", "PatternRequest", "PixelsRequest", "json:"} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("%s: answer %s contains %q", tc.name, raw, bad)
			}
		}
	}
}

func TestAPIToken(t *testing.T) {
	const tok = "s3cret-s3cret-s3cret"
	_, ts := newTestServer(t, tok)
	tests := []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"no token", "/api/state", nil, 401},
		{"wrong bearer", "/api/state", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"right bearer", "/api/state", map[string]string{"Authorization": "Bearer " + tok}, 200},
		// RFC 9110 §11.1: the scheme is case-insensitive (issue 10)
		{"lower-case bearer", "/api/state", map[string]string{"Authorization": "bearer " + tok}, 200},
		{"upper-case bearer", "/api/state", map[string]string{"Authorization": "BEARER " + tok}, 200},
		{"two spaces", "/api/state", map[string]string{"Authorization": "Bearer  " + tok}, 200},
		{"lower-case bearer, wrong token", "/api/state", map[string]string{"Authorization": "bearer " + tok + "x"}, 401},
		{"basic scheme", "/api/state", map[string]string{"Authorization": "Basic " + tok}, 401},
		{"scheme only", "/api/state", map[string]string{"Authorization": "Bearer"}, 401},
		{"header token", "/api/state", map[string]string{"X-Cup-Token": tok}, 200},
		{"query token", "/api/state?token=" + tok, nil, 200},
		{"wrong query token", "/api/state?token=" + tok[:15], nil, 401},
		{"the page itself needs no token", "/", nil, 200},
	}
	for _, tc := range tests {
		res, _ := do(t, ts, "GET", tc.path, "", "", tc.hdr)
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	// with a token, any Host is fine (the token is the protection)
	res, _ := do(t, ts, "GET", "/api/state", "", "", map[string]string{"Authorization": "Bearer " + tok, "Host": "cup.example"})
	if res.StatusCode != 200 {
		t.Errorf("token + foreign host: %d", res.StatusCode)
	}
}

func TestDNSRebindingBlockedWithoutToken(t *testing.T) {
	_, ts := newTestServer(t, "")
	req, _ := http.NewRequest("GET", ts.URL+"/api/state", nil)
	req.Host = "evil.example:8080"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Host without token: %d, want 403", res.StatusCode)
	}
}

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr, token string
		wantErr     bool
		loopback    bool
	}{
		{"127.0.0.1:8080", "", false, true},
		{"localhost:8080", "", false, true},
		{"[::1]:8080", "", false, true},
		{"127.0.0.2:0", "", false, true},
		{"0.0.0.0:8080", "", true, false},
		{":8080", "", true, false},
		{"192.168.1.5:8080", "", true, false},
		{"cup.local:8080", "", true, false},
		{"0.0.0.0:8080", "0123456789abcdef", false, false},
		// a token shorter than MinTokenLen is refused on every address
		{"0.0.0.0:8080", "q", true, false},
		{"0.0.0.0:8080", "0123456789abcde", true, false},
		{"127.0.0.1:8080", "s3cr3t", true, false},
		{"0.0.0.0:8080", "ééééééééééééééé€", false, false}, // characters, not bytes
		{"no-port", "", true, false},
	}
	for _, tc := range tests {
		lb, err := CheckAddr(tc.addr, tc.token)
		if (err != nil) != tc.wantErr || (err == nil && lb != tc.loopback) {
			t.Errorf("CheckAddr(%q, %q) = %v, %v; want loopback %v, err %v", tc.addr, tc.token, lb, err, tc.loopback, tc.wantErr)
		}
		if err != nil && tc.token == "" && !strings.Contains(err.Error(), "--token") && tc.addr != "no-port" {
			t.Errorf("CheckAddr(%q): error does not say how to fix it: %v", tc.addr, err)
		}
		if err != nil && tc.token != "" {
			if strings.Contains(err.Error(), tc.token) {
				t.Errorf("CheckAddr(%q, %q): the error shows the token: %v", tc.addr, tc.token, err)
			}
			if !strings.Contains(err.Error(), "at least 16") || !strings.Contains(err.Error(), "openssl rand") {
				t.Errorf("CheckAddr(%q, %q): error does not say the minimum and how to make a token: %v", tc.addr, tc.token, err)
			}
		}
	}
}

func TestStaticAndMeta(t *testing.T) {
	_, ts := newTestServer(t, "")
	for _, p := range []string{"/", "/app.js", "/style.css"} {
		res, _ := do(t, ts, "GET", p, "", "", nil)
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
	res, body := do(t, ts, "GET", "/api/patterns", "", "", nil)
	if res.StatusCode != 200 || strings.Join(toStrings(body["patterns"]), ",") != "off,solid,breathe,spin,rainbow,comet" {
		t.Errorf("patterns: %d %v", res.StatusCode, body)
	}
	// details list every pattern, custom included (the UI shows it when the
	// device is in it) with what it uses
	details, _ := body["details"].([]any)
	got := map[string]map[string]any{}
	for _, d := range details {
		m := d.(map[string]any)
		got[m["name"].(string)] = m
	}
	if c := got["custom"]; c == nil || c["settable"] != false || c["color"] != false {
		t.Errorf("details for custom: %v", c)
	}
	if r := got["rainbow"]; r == nil || r["settable"] != true || r["color"] != false || r["speed"] != true {
		t.Errorf("details for rainbow: %v", r)
	}
	if len(details) != 7 {
		t.Errorf("details has %d patterns, want 7: %v", len(details), details)
	}
	res, body = do(t, ts, "GET", "/api/version", "", "", nil)
	if res.StatusCode != 200 || body["version"] == "" {
		t.Errorf("version: %d %v", res.StatusCode, body)
	}
	res, body = do(t, ts, "POST", "/api/pixels", js, `{"start":0,"pixels":["#ff0000","#00ff00"]}`, nil)
	if res.StatusCode != 200 || body["pattern"] != "custom" {
		t.Errorf("pixels: %d %v", res.StatusCode, body)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestEventsStreamState(t *testing.T) {
	s, ts := newTestServer(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Loop(ctx)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	frames := map[float64]bool{}
	for sc.Scan() && len(frames) < 3 {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var st map[string]any
		if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &st); err != nil {
			t.Fatalf("event data is not JSON: %v", err)
		}
		frames[st["frame"].(float64)] = true
	}
	if len(frames) < 3 {
		t.Fatalf("got %d distinct frames from the event stream", len(frames))
	}
}

func TestRunShutsDownWithOpenStream(t *testing.T) {
	d, _ := sim.New(8)
	s, err := New(Options{Addr: "127.0.0.1:0", Device: device.OpenSim(d)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(a net.Addr) { addrc <- a.String() })
	}()
	addr := <-addrc
	res, err := http.Get("http://" + addr + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("Run did not return after cancel with an event stream open")
	}
}
