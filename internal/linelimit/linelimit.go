// Package linelimit bounds the lines of an uploaded text file, so that a
// CSV reader over it never holds more than one short line: a 5 MB file of
// one line is refused at the limit, not parsed whole.
package linelimit

import (
	"errors"
	"io"
)

// Max is the longest line the imports accept: far above any MIS export's
// row (a few hundred bytes), far below what could hurt.
const Max = 8 << 10

// ErrTooLong is returned once a line passes the limit.
var ErrTooLong = errors.New("a line of the file is longer than 8 KiB")

// Reader passes r through, failing with ErrTooLong at a line longer than
// max bytes.
type Reader struct {
	r   io.Reader
	max int
	cur int
	err error
}

// New returns a Reader over r; max <= 0 means Max.
func New(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = Max
	}
	return &Reader{r: r, max: max}
}

func (l *Reader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > l.max {
			l.err = ErrTooLong
			return i, ErrTooLong
		}
	}
	return n, err
}
