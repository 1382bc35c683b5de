package materials

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ObjectStore holds lesson material: MinIO or any S3 store (S3Store), or
// a local directory (DirStore, the embedded default). Keys are
// slash-separated, of letters, digits, '-', '_' and '.'.
type ObjectStore interface {
	// Put streams r (size bytes, or -1 if unknown) to key. If r fails, the
	// object is not left behind.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// URL is a link that fetches key without a session for ttl, naming the
	// download filename.
	URL(ctx context.Context, key, filename string, ttl time.Duration) (string, error)
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix that were last written before
	// olderThan (for the sweep: a fresh upload may not have its record yet).
	List(ctx context.Context, prefix string, olderThan time.Time) ([]string, error)
}

// ErrNoObject is returned for a key that is not stored.
var ErrNoObject = errors.New("objects: no such object")

func validKey(key string) bool {
	if key == "" || len(key) > 200 || strings.HasPrefix(key, "/") || strings.Contains(key, "..") {
		return false
	}
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r)) {
			return false
		}
	}
	return true
}

// DirStore keeps objects as files under a directory. Its links point at
// the gateway's own /files/ route and carry an HMAC of the key, the
// filename and the expiry, checked by Open.
type DirStore struct {
	dir    string
	secret []byte
	base   string // e.g. http://127.0.0.1:8080
}

// NewDirStore opens (creating) dir; links are base + "/files/…" signed with
// secret (keep it across restarts for links to survive them).
func NewDirStore(dir, base string, secret []byte) (*DirStore, error) {
	if len(secret) < 16 {
		return nil, errors.New("objects: the link secret needs 16 bytes or more")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &DirStore{dir: dir, secret: secret, base: strings.TrimRight(base, "/")}, nil
}

// SetBase sets where links point (the gateway's address, known once it
// listens); call it before the store is used.
func (d *DirStore) SetBase(base string) { d.base = strings.TrimRight(base, "/") }

func (d *DirStore) path(key string) string { return filepath.Join(d.dir, filepath.FromSlash(key)) }

// Put writes to a temporary file and renames it into place when complete.
func (d *DirStore) Put(ctx context.Context, key string, r io.Reader, _ int64, _ string) error {
	if !validKey(key) {
		return fmt.Errorf("objects: bad key %q", key)
	}
	p := d.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(f, ctxReader{ctx, r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

func (d *DirStore) sign(key, filename string, exp int64) string {
	m := hmac.New(sha256.New, d.secret)
	fmt.Fprintf(m, "%s\n%s\n%d", key, filename, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// URL signs a link to the gateway's /files/ route.
func (d *DirStore) URL(_ context.Context, key, filename string, ttl time.Duration) (string, error) {
	exp := time.Now().Add(ttl).Unix()
	q := url.Values{"exp": {strconv.FormatInt(exp, 10)}, "name": {filename}, "sig": {d.sign(key, filename, exp)}}
	return d.base + "/files/" + key + "?" + q.Encode(), nil
}

// Open checks a link's signature and expiry and opens its object.
func (d *DirStore) Open(key, filename, exp, sig string) (*os.File, error) {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !validKey(key) || !hmac.Equal([]byte(sig), []byte(d.sign(key, filename, e))) {
		return nil, ErrBadLink
	}
	if time.Now().Unix() > e {
		return nil, ErrLinkExpired
	}
	f, err := os.Open(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoObject
	}
	return f, err
}

// Link errors.
var (
	ErrBadLink     = errors.New("objects: the link is not valid")
	ErrLinkExpired = errors.New("objects: the link has expired")
)

// Delete removes an object; a missing one is not an error.
func (d *DirStore) Delete(_ context.Context, key string) error {
	if !validKey(key) {
		return fmt.Errorf("objects: bad key %q", key)
	}
	err := os.Remove(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// List walks the directory under prefix.
func (d *DirStore) List(_ context.Context, prefix string, olderThan time.Time) ([]string, error) {
	var out []string
	root := d.path(strings.TrimSuffix(prefix, "/"))
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".upload-") {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if info.ModTime().Before(olderThan) {
			rel, _ := filepath.Rel(d.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
