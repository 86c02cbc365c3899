// Package share is the server side of model sharing: an HTTP API under
// /api/models through which the page uploads a trained generator
// (.safetensors), lists the recent public ones, downloads one by id and
// deletes its own with the token it got at upload.
//
// The API, as the page uses it (every body JSON unless said otherwise;
// errors are {"error": "reason"}):
//
//	GET    /api/models              200 {"models": [Meta, …]}, newest first, at most 50
//	POST   /api/models?name=…&domainA=…&domainB=…&resolution=…&iterations=…
//	                                body: the raw .safetensors bytes (application/octet-stream)
//	                                201 {"id", "deleteToken", "model": Meta}
//	                                413 over Config.MaxUpload; 400 not a generator or bad fields
//	GET    /api/models/{id}         200 the exact bytes uploaded (application/octet-stream, attachment)
//	GET    /api/models/{id}/info    200 Meta
//	DELETE /api/models/{id}         header X-Delete-Token: 204; 403 missing or wrong token
//
// Unknown ids answer 404. An upload is validated by the checks of the
// reader the command line uses (cyclegan.CheckGenerator, which
// UnmarshalGenerator runs, without decoding the weights): a bare ResNet
// generator of F32 tensors with the PyTorch keys, its ngf and number of
// residual blocks inferred from the shapes. Ids and delete tokens come from crypto/rand;
// only a SHA-256 hash of the token is stored, and it is compared in
// constant time.
//
// NewHandler serves the API over a Store: MemoryStore and DirStore here
// (cmd/serve), an R2 bucket and a KV namespace on Cloudflare Workers
// (cmd/edge). It sets only the API's own headers; site.HandlerWithAPI
// mounts it under the site's security headers, so the page, its files and
// the API are served alike by cmd/serve and cmd/edge.
//
// Package sharetest holds the API scenario that the tests run against
// both servers.
//
// What it is not: a user system. There are no accounts, no quotas beyond
// the size caps and no moderation; whoever holds a model's delete token
// may delete it, and every uploaded model is public to whoever has its id
// or sees it in the list.
package share
