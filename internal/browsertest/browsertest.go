// Package browsertest starts Debian's headless Chromium through chromedp
// for the browser tests, with fake camera and microphone devices. Without
// a Chromium the tests skip, except under CI, where they fail.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds Chromium: $SEATLINK_CHROMIUM, /usr/bin/chromium, or chromium
// on PATH. It returns "" if there is none.
func Path() string {
	if p := os.Getenv("SEATLINK_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// Timeout bounds one browser test, so that a wait for something that
// never appears fails the test instead of hanging it.
const Timeout = 2 * time.Minute

// New starts a fresh headless Chromium and returns a tab's context, which
// ends after Timeout. The browser is closed when the test ends. extra are
// further flags (a certificate to trust, a window size).
func New(t testing.TB, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	path := Path()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("browser test: no Chromium found (install Debian's chromium or set SEATLINK_CHROMIUM); CI does not skip")
		}
		t.Skip("browser test: no Chromium found; install Debian's chromium or set SEATLINK_CHROMIUM")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 800),
	}
	opts = append(opts, extra...)
	tctx, cancelTimeout := context.WithTimeout(context.Background(), Timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(tctx, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	cancel := func() { cancelCtx(); cancelAlloc(); cancelTimeout() }
	if err := chromedp.Do(ctx); err != nil { // start the browser now, so a failure is clear
		cancel()
		t.Fatalf("browser test: start Chromium %s: %v", path, err)
	}
	t.Cleanup(cancel)
	return ctx, cancel
}

// Screenshot writes a PNG of the whole page, for people checking the UI.
func Screenshot(ctx context.Context, path string) error {
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(path, buf, 0o644)
}

// Do runs actions with a time limit of its own, and on failure says where
// the page was, so that a stuck step fails in seconds with a clue instead
// of using up the whole test's time.
func Do(ctx context.Context, limit time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	sctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := chromedp.Do(sctx, actions...)
	if err == nil {
		return nil
	}
	dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
	defer dcancel()
	where, derr := chromedp.Run(dctx, chromedp.Evaluate[string](
		`location.href + ' (' + document.readyState + '): ' + (document.body ? document.body.innerText.slice(0, 300) : '')`))
	if derr != nil {
		where = "unknown: " + derr.Error()
	}
	return fmt.Errorf("%w; the page was at %s", err, where)
}
