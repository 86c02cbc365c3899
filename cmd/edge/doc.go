// Command edge is the site and its model-sharing API on Cloudflare
// Workers: the same handler as cmd/serve (site.HandlerWithAPI over
// share.NewHandler), run by github.com/syumai/workers, with shared models
// kept in R2 (the files) and KV (their records and the recent-models
// index), and the site's files in the Worker's static assets, read
// through the ASSETS binding so that the Go handler still sets every
// header.
//
// It builds only for GOOS=js GOARCH=wasm; natively it is a stub that
// points at cmd/serve. build.sh builds it (build/worker/) and copies the
// site's files (build/site/); wrangler.jsonc names the bindings:
//
//	npm ci              # wrangler, once
//	npm run dev         # build, then wrangler dev --local (R2 and KV simulated)
//	npm run deploy      # build, then wrangler deploy
//
// The README's "Sharing models" section says more, and edge_test.go runs
// the API scenario (package sharetest) against wrangler dev.
//
// Bindings and variables (wrangler.jsonc):
//
//	ASSETS            the site's files (build/site)
//	MODELS            R2 bucket: models/<id>.safetensors
//	MODELS_INDEX      KV namespace: model/<id> → Record JSON;
//	                  recent/<13-digit 9999999999999−date>/<id> → "" with the Meta as KV metadata
//	MAX_UPLOAD_BYTES  optional: share.Config.MaxUpload (default 64 MiB)
//
// Without the R2 or KV binding the site is served with no API
// (/api/models answers 404), as a plain static host would.
package main
