package server

import (
	"bufio"
	"context"
	"encoding/json"
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
		{"pixels bad colour", "POST", "/api/pixels", js, `{"start":0,"pixels":["blue"]}`, 400},
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

func TestAPIBodyLimit(t *testing.T) {
	_, ts := newTestServer(t, "")
	big := `{"start":0,"pixels":["` + strings.Repeat("f", MaxBodyBytes) + `"]}`
	res, body := do(t, ts, "POST", "/api/pixels", js, big, nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: status %d (%v), want 413", res.StatusCode, body)
	}
}

func TestAPIToken(t *testing.T) {
	_, ts := newTestServer(t, "s3cret")
	tests := []struct {
		name string
		path string
		hdr  map[string]string
		want int
	}{
		{"no token", "/api/state", nil, 401},
		{"wrong bearer", "/api/state", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"right bearer", "/api/state", map[string]string{"Authorization": "Bearer s3cret"}, 200},
		{"header token", "/api/state", map[string]string{"X-Cup-Token": "s3cret"}, 200},
		{"query token", "/api/state?token=s3cret", nil, 200},
		{"wrong query token", "/api/state?token=s3cre", nil, 401},
		{"the page itself needs no token", "/", nil, 200},
	}
	for _, tc := range tests {
		res, _ := do(t, ts, "GET", tc.path, "", "", tc.hdr)
		if res.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
	// with a token, any Host is fine (the token is the protection)
	res, _ := do(t, ts, "GET", "/api/state", "", "", map[string]string{"Authorization": "Bearer s3cret", "Host": "cup.example"})
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
		{"0.0.0.0:8080", "tok", false, false},
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
	if res.StatusCode != 200 || !strings.Contains(strings.Join(toStrings(body["patterns"]), ","), "rainbow") {
		t.Errorf("patterns: %d %v", res.StatusCode, body)
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
