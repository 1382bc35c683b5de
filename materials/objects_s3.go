package materials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config reaches MinIO or any S3 store.
type S3Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
	Secure    bool // https
	Region    string
}

// S3Store keeps objects in a MinIO/S3 bucket, uploading in parts of
// s3PartSize held one at a time, so an upload's memory is bounded
// whatever its size; links are S3 presigned GETs.
type S3Store struct {
	c      *minio.Client
	bucket string
}

// s3PartSize is the multipart part size: the upload buffer per request.
const s3PartSize = 8 << 20

// NewS3Store connects and creates the bucket if it is missing.
func NewS3Store(ctx context.Context, cfg S3Config) (*S3Store, error) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.Secure, Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("objects: S3 client: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("objects: reach S3 at %s: %w", cfg.Endpoint, err)
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			// Another node may have made it meanwhile.
			if exists, err2 := c.BucketExists(ctx, cfg.Bucket); err2 != nil || !exists {
				return nil, fmt.Errorf("objects: create bucket %s: %w", cfg.Bucket, err)
			}
		}
	}
	return &S3Store{c: c, bucket: cfg.Bucket}, nil
}

// Put streams r in parts; on a failed read the multipart upload is aborted
// and nothing is left in the bucket.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !validKey(key) {
		return fmt.Errorf("objects: bad key %q", key)
	}
	_, err := s.c.PutObject(ctx, s.bucket, key, r, size, minio.PutObjectOptions{ContentType: contentType,
		PartSize: s3PartSize, NumThreads: 1, SendContentMd5: false})
	if err != nil {
		_ = s.c.RemoveIncompleteUpload(context.WithoutCancel(ctx), s.bucket, key)
		return err
	}
	return nil
}

// URL presigns a GET naming the download filename.
func (s *S3Store) URL(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	q := url.Values{"response-content-disposition": {ContentDisposition(filename)}}
	u, err := s.c.PresignedGetObject(ctx, s.bucket, key, ttl, q)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Delete removes an object; a missing one is not an error.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	var er minio.ErrorResponse
	if errors.As(err, &er) && er.Code == "NoSuchKey" {
		return nil
	}
	return err
}

// List lists the bucket under prefix.
func (s *S3Store) List(ctx context.Context, prefix string, olderThan time.Time) ([]string, error) {
	var out []string
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		if o.LastModified.Before(olderThan) {
			out = append(out, o.Key)
		}
	}
	return out, nil
}

// ContentDisposition names a download; the name is reduced to safe
// characters (it came from an uploader).
func ContentDisposition(filename string) string {
	safe := make([]rune, 0, len(filename))
	for _, r := range filename {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == ' ' {
			safe = append(safe, r)
		}
	}
	if len(safe) == 0 {
		return "attachment"
	}
	return `attachment; filename="` + string(safe) + `"`
}
