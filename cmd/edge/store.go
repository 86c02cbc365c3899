//go:build js && wasm

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"syscall/js"

	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/r2"

	"github.com/cyclegan-wasm/cyclegan/site/share"
)

// cloudflareStore is a share.Store over an R2 bucket and a KV namespace:
//
//	R2  models/<id>.safetensors                 the file
//	KV  model/<id>                              the share.Record, JSON
//	KV  recent/<13 digits: 9999999999999−date>/<id>
//	                                            "", with the share.Meta as the key's metadata
//
// KV lists keys in byte order, so one list call of the recent/ prefix
// gives the newest models first (equal dates by id, as share.Store.List
// orders them) with their Metas, without a read per model. A Meta's JSON
// is far below KV's 1,024-byte metadata limit (share caps the text
// fields). KV is eventually consistent across Cloudflare's locations: a
// model uploaded or deleted in one may take up to a minute to appear in
// or leave another's list.
//
// Files go through the bucket's JavaScript API directly for Put (one copy
// into a Uint8Array, where r2.Bucket.Put reads the whole body again), and
// through syumai/workers' r2 for Get, whose body streams to the response
// without passing through Go, and Delete. KV goes through its JavaScript
// API directly: syumai/workers' kv has neither key metadata nor a way to
// tell a missing key from the string "<null>".
type cloudflareStore struct {
	bucket    *r2.Bucket
	bucketJS  js.Value
	namespace js.Value
}

// newCloudflareStore binds the store to the R2 bucket and KV namespace of
// the given binding names.
func newCloudflareStore(bucketName, kvName string) (*cloudflareStore, error) {
	bucketJS := cloudflare.GetBinding(bucketName)
	if bucketJS.IsUndefined() {
		return nil, fmt.Errorf("no R2 binding %s", bucketName)
	}
	namespace := cloudflare.GetBinding(kvName)
	if namespace.IsUndefined() {
		return nil, fmt.Errorf("no KV binding %s", kvName)
	}
	bucket, err := r2.NewBucket(bucketName)
	if err != nil {
		return nil, err
	}
	return &cloudflareStore{bucket: bucket, bucketJS: bucketJS, namespace: namespace}, nil
}

func fileKey(id string) string   { return "models/" + id + ".safetensors" }
func recordKey(id string) string { return "model/" + id }

// recentPrefix and recentKey make the index keys: 9999999999999 ms is in
// the year 2286, so 13 digits hold every date until then.
const recentPrefix = "recent/"

func recentKey(m share.Meta) string {
	return fmt.Sprintf("%s%013d/%s", recentPrefix, 9999999999999-m.Date, m.ID)
}

// Put implements share.Store: the file, then the record, then the index
// entry; on a failure it removes what it wrote.
func (s *cloudflareStore) Put(_ context.Context, rec share.Record, file []byte) error {
	id := rec.Meta.ID
	rb, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("r2/kv: put %s: %w", id, err)
	}
	mb, err := json.Marshal(rec.Meta)
	if err != nil {
		return fmt.Errorf("r2/kv: put %s: %w", id, err)
	}
	opts := object.New()
	httpMeta := object.New()
	httpMeta.Set("contentType", "application/octet-stream")
	opts.Set("httpMetadata", httpMeta)
	if _, err := call("r2 put "+fileKey(id), s.bucketJS, "put", fileKey(id), bytesToJS(file), opts); err != nil {
		return err
	}
	if _, err := call("kv put "+recordKey(id), s.namespace, "put", recordKey(id), string(rb)); err != nil {
		s.bucket.Delete(fileKey(id))
		return err
	}
	kvOpts := object.New()
	kvOpts.Set("metadata", parseJSON(string(mb)))
	if _, err := call("kv put "+recentKey(rec.Meta), s.namespace, "put", recentKey(rec.Meta), "", kvOpts); err != nil {
		s.namespace.Call("delete", recordKey(id))
		s.bucket.Delete(fileKey(id))
		return err
	}
	return nil
}

// Record implements share.Store.
func (s *cloudflareStore) Record(_ context.Context, id string) (share.Record, error) {
	v, err := call("kv get "+recordKey(id), s.namespace, "get", recordKey(id))
	if err != nil {
		return share.Record{}, err
	}
	if v.IsNull() || v.IsUndefined() {
		return share.Record{}, fmt.Errorf("kv %s: %w", recordKey(id), share.ErrNotFound)
	}
	var rec share.Record
	if err := json.Unmarshal([]byte(v.String()), &rec); err != nil {
		return share.Record{}, fmt.Errorf("kv %s: %w", recordKey(id), err)
	}
	return rec, nil
}

// Open implements share.Store. The body it returns streams from R2.
func (s *cloudflareStore) Open(_ context.Context, id string) (io.ReadCloser, error) {
	obj, err := s.bucket.Get(fileKey(id))
	if err != nil {
		return nil, fmt.Errorf("r2 get %s: %w", fileKey(id), err)
	}
	if obj == nil || obj.Body == nil {
		return nil, fmt.Errorf("r2 %s: %w", fileKey(id), share.ErrNotFound)
	}
	if rc, ok := obj.Body.(io.ReadCloser); ok {
		return rc, nil
	}
	return io.NopCloser(obj.Body), nil
}

// List implements share.Store with one KV list call.
func (s *cloudflareStore) List(_ context.Context, n int) ([]share.Meta, error) {
	opts := object.New()
	opts.Set("prefix", recentPrefix)
	opts.Set("limit", n)
	v, err := call("kv list "+recentPrefix, s.namespace, "list", opts)
	if err != nil {
		return nil, err
	}
	keys := v.Get("keys")
	metas := make([]share.Meta, 0, keys.Length())
	for i := range keys.Length() {
		k := keys.Index(i)
		md := k.Get("metadata")
		if md.IsUndefined() || md.IsNull() {
			return nil, fmt.Errorf("kv %s: no metadata", k.Get("name").String())
		}
		var m share.Meta
		if err := json.Unmarshal([]byte(stringify(md)), &m); err != nil {
			return nil, fmt.Errorf("kv %s: metadata: %w", k.Get("name").String(), err)
		}
		metas = append(metas, m)
	}
	return metas, nil
}

// Delete implements share.Store: the record first (the model is then gone
// for Record, Open and the API), then the index entry and the file.
func (s *cloudflareStore) Delete(ctx context.Context, id string) error {
	rec, err := s.Record(ctx, id)
	if err != nil {
		return err
	}
	var errs []error
	for _, key := range []string{recordKey(id), recentKey(rec.Meta)} {
		if _, err := call("kv delete "+key, s.namespace, "delete", key); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.bucket.Delete(fileKey(id)); err != nil {
		errs = append(errs, fmt.Errorf("r2 delete %s: %w", fileKey(id), err))
	}
	return errors.Join(errs...)
}
