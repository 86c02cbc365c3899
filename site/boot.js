// boot.js starts the page's Go program (the UI, wasm.RunPage). It works
// from http:// and from file://: the WebAssembly module comes from
// bundle.js (base64) rather than from fetch, which file:// pages cannot use.
// The Go side then starts the engine worker from the same bytes
// (self.CYCLEGAN_WASM) and the worker source in the bundle.
"use strict";
(function () {
  function fail(text) {
    const el = document.getElementById("status");
    if (el) {
      el.textContent = text;
      el.dataset.level = "error";
    }
    console.error(text);
  }
  const bundle = self.CYCLEGAN_BUNDLE;
  if (!bundle || typeof bundle.wasm !== "string") {
    fail("bundle.js is missing or incomplete: run make site, then reload.");
    return;
  }
  if (typeof Go !== "function") {
    fail("wasm_exec.js is missing: run make site, then reload.");
    return;
  }
  if (typeof WebAssembly !== "object") {
    fail("This browser cannot run WebAssembly.");
    return;
  }
  let bytes;
  if (typeof Uint8Array.fromBase64 === "function") {
    bytes = Uint8Array.fromBase64(bundle.wasm);
  } else {
    const bin = atob(bundle.wasm);
    bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  }
  // Kept for the worker, which Go starts with a copy of these bytes; the
  // base64 text is no longer needed.
  self.CYCLEGAN_WASM = bytes;
  bundle.wasm = "";
  const go = new Go();
  WebAssembly.instantiate(bytes, go.importObject)
    .then((result) => go.run(result.instance))
    .then(() => fail("The page's Go program stopped. Reload the page."))
    .catch((err) => fail("Could not start the page: " + err));
})();
