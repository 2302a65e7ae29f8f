package main

// A real-browser test of the control page: `cup serve --sim` on a free
// loopback port, Chromium driven by chromedriver over the W3C WebDriver HTTP
// protocol (standard library only). It changes the pattern, colour and
// brightness with the page's own controls and checks that the LED ring on the
// page follows, then saves a screenshot.
//
// Skipped unless CUP_UI_TEST=1 (scripts/ui-test.sh sets it). Optional:
// CUP_CHROMEDRIVER, CUP_CHROMIUM (binaries), CUP_UI_SCREENSHOT (PNG path,
// default ../../../out/ui-screenshot.png, i.e. out/ at the repository root).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type webdriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:port
	session string
}

// call does one WebDriver command and returns its "value".
func (wd *webdriver) call(method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	url := wd.base + path
	if wd.session != "" && !strings.HasPrefix(path, "/session") && path != "/status" {
		url = wd.base + "/session/" + wd.session + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, out.Value)
	}
	return out.Value, nil
}

func (wd *webdriver) must(method, path string, body any) json.RawMessage {
	wd.t.Helper()
	v, err := wd.call(method, path, body)
	if err != nil {
		wd.t.Fatal(err)
	}
	return v
}

func (wd *webdriver) script(js string, args ...any) json.RawMessage {
	wd.t.Helper()
	if args == nil {
		args = []any{}
	}
	return wd.must("POST", "/execute/sync", map[string]any{"script": js, "args": args})
}

func (wd *webdriver) element(css string) string {
	wd.t.Helper()
	v := wd.must("POST", "/element", map[string]any{"using": "css selector", "value": css})
	var el map[string]string
	if err := json.Unmarshal(v, &el); err != nil {
		wd.t.Fatal(err)
	}
	for _, id := range el { // the key is "element-6066-11e4-a52e-4f735466cecf"
		return id
	}
	wd.t.Fatalf("no element id for %s: %s", css, v)
	return ""
}

// ledColours reads the computed background colour of every LED on the page.
func (wd *webdriver) ledColours() []string {
	wd.t.Helper()
	var c []string
	v := wd.script(`return Array.from(document.querySelectorAll('#ring .led')).map(e => getComputedStyle(e).backgroundColor);`)
	if err := json.Unmarshal(v, &c); err != nil {
		wd.t.Fatal(err)
	}
	return c
}

// waitFor polls ok until it holds; on timeout it calls explain (if any) and fails.
func (wd *webdriver) waitFor(what string, timeout time.Duration, ok func() bool, explain ...func()) {
	wd.t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			for _, e := range explain {
				e()
			}
			wd.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func findBinary(t *testing.T, env string, names ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	t.Fatalf("none of %v found on PATH (set %s, or run scripts/setup-cup.sh)", names, env)
	return ""
}

func allEqual(c []string, want string) bool {
	if len(c) == 0 {
		return false
	}
	for _, x := range c {
		if x != want {
			return false
		}
	}
	return true
}

func TestUIInBrowser(t *testing.T) {
	if os.Getenv("CUP_UI_TEST") != "1" {
		t.Skip("set CUP_UI_TEST=1 to run the browser test (scripts/ui-test.sh)")
	}
	driverBin := findBinary(t, "CUP_CHROMEDRIVER", "chromedriver")
	chromeBin := findBinary(t, "CUP_CHROMIUM", "chromium", "chromium-browser", "google-chrome")

	// 1. cup serve --sim, through the real command-line code
	ctx, cancel := context.WithCancel(context.Background())
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	served := make(chan int, 1)
	var serveOut, serveErr bytes.Buffer
	go func() { served <- run(ctx, []string{"serve", "--sim", "--addr", addr}, &serveOut, &serveErr) }()
	defer func() {
		cancel()
		select {
		case code := <-served:
			if code != 0 {
				t.Errorf("cup serve exited %d: %s", code, serveErr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("cup serve did not shut down within 10s")
		}
	}()
	waitHTTP(t, "http://"+addr+"/api/state")

	// 2. chromedriver
	dport := freePort(t)
	drv := exec.Command(driverBin, fmt.Sprintf("--port=%d", dport))
	var drvLog bytes.Buffer
	drv.Stdout, drv.Stderr = &drvLog, &drvLog
	if err := drv.Start(); err != nil {
		t.Fatalf("start %s: %v", driverBin, err)
	}
	defer func() {
		_ = drv.Process.Kill()
		_ = drv.Wait()
		if t.Failed() {
			t.Logf("chromedriver log:\n%s", drvLog.String())
		}
	}()
	wd := &webdriver{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", dport)}
	waitHTTP(t, wd.base+"/status")

	// 3. a headless Chromium session; the background-networking flags keep
	// it from hanging on a closed network
	profile := t.TempDir()
	v := wd.must("POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromeBin,
			"args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--window-size=520,980", "--user-data-dir=" + profile},
		},
	}}})
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	if err := json.Unmarshal(v, &sess); err != nil || sess.SessionID == "" {
		t.Fatalf("new session: %s (%v)", v, err)
	}
	wd.session = sess.SessionID
	defer wd.call("DELETE", "/session/"+wd.session, nil)

	// 4. the page: the ring appears and animates (rainbow by default)
	wd.must("POST", "/url", map[string]any{"url": "http://" + addr + "/"})
	var before []string
	wd.waitFor("the LED ring to render", 15*time.Second, func() bool {
		before = wd.ledColours()
		return len(before) == 24 && !allEqual(before, before[0])
	})
	wd.waitFor("the status badge to say connected", 10*time.Second, func() bool {
		return string(wd.script(`return document.getElementById('status').dataset.connected;`)) == `"true"`
	})
	frame0 := string(wd.script(`return document.getElementById('ring').dataset.frame;`))
	wd.waitFor("live updates (server-sent events)", 10*time.Second, func() bool {
		return string(wd.script(`return document.getElementById('ring').dataset.frame;`)) != frame0
	})

	// 5. the controls: pattern by clicking the option, brightness with the
	// keyboard (End = maximum), colour through the picker's value + events
	wd.must("POST", "/element/"+wd.element(`#pattern option[value="solid"]`)+"/click", map[string]any{})
	wd.must("POST", "/element/"+wd.element(`#brightness`)+"/value", map[string]any{"text": "\uE010"}) // End
	wd.script(`const e = document.getElementById('color');
		e.value = arguments[0];
		e.dispatchEvent(new Event('input', {bubbles: true}));
		e.dispatchEvent(new Event('change', {bubbles: true}));`, "#00c0ff")

	// 6. every LED on the page turns the chosen colour at full brightness
	var after []string
	wd.waitFor("the ring to turn solid #00c0ff", 15*time.Second, func() bool {
		after = wd.ledColours()
		return allEqual(after, "rgb(0, 192, 255)")
	}, func() {
		t.Logf("LEDs now: %v; state: %s", after[:3], wd.script(`return [document.getElementById("pattern").value, document.getElementById("brightness").value, document.getElementById("color").value, document.getElementById("error").textContent];`))
	})
	if allEqual(before, after[0]) {
		t.Fatalf("the ring did not change: before %v, after %v", before, after)
	}
	if p := string(wd.script(`return document.getElementById('ring').dataset.pattern;`)); p != `"solid"` {
		t.Errorf("ring data-pattern = %s, want solid", p)
	}
	// the server agrees
	res, err := http.Get("http://" + addr + "/api/state")
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	_ = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if st["pattern"] != "solid" || st["color"] != "#00c0ff" || st["brightness"] != float64(255) {
		t.Errorf("server state after the UI changes: pattern %v colour %v brightness %v", st["pattern"], st["color"], st["brightness"])
	}

	// 7. screenshot
	var b64 string
	if err := json.Unmarshal(wd.must("GET", "/screenshot", nil), &b64); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	shot := os.Getenv("CUP_UI_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join("..", "..", "..", "out", "ui-screenshot.png")
	}
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("LEDs before: %v", before[:4])
	t.Logf("LEDs after:  %v", after[:4])
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}

func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
