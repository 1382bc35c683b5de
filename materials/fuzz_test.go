package materials

import (
	"strings"
	"testing"
)

// Whatever bytes are uploaded, the type given is one of the allow-list,
// and markup is never served as text.
func FuzzSniffType(f *testing.F) {
	f.Add([]byte("%PDF-1.7"), "a.pdf")
	f.Add([]byte("<svg/>"), "a.txt")
	f.Add([]byte("PK\x03\x04"), "a.docx")
	f.Add([]byte("hello"), "a.csv")
	allowed := map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
		"audio/mpeg": true, "video/mp4": true, "video/webm": true, "text/plain; charset=utf-8": true, "text/csv; charset=utf-8": true}
	for _, v := range officeTypes {
		allowed[v] = true
	}
	f.Fuzz(func(t *testing.T, head []byte, name string) {
		if len(head) > 512 {
			head = head[:512]
		}
		got := sniffType(head, name)
		if got != "" && !allowed[got] {
			t.Fatalf("type %q is not on the allow-list", got)
		}
		if strings.HasPrefix(got, "text/") {
			if trimmed := strings.TrimLeft(string(head), " \t\r\n\ufeff"); strings.HasPrefix(trimmed, "<") {
				t.Fatalf("markup %q accepted as %s", head, got)
			}
		}
	})
}
