// worker.js boots the CycleGAN engine (Go compiled to WebAssembly) inside a
// Web Worker.
//
// The page usually builds the worker from a blob: URL of Go's wasm_exec.js
// followed by this file (that works from file:// too, where
// new Worker('worker.js') and fetch are blocked), then posts
//
//     {type: "boot", wasm: ArrayBuffer}
//
// (the bytes of the app's .wasm; a WebAssembly.Module or, under http, a URL
// string work too; optional argv: [string] and env: {name: value} are
// handed to the Go program). Loaded directly with new Worker('worker.js')
// under http, it first loads wasm_exec.js from beside itself.
//
// The Go program sees that it runs in a worker (no document) and calls
// wasm.RunWorker, which takes over self.onmessage. Messages that arrive
// before that are kept, in order, in self.__pending, and RunWorker handles
// them first.
"use strict";

if (typeof Go === "undefined" && typeof importScripts === "function") {
  importScripts("wasm_exec.js");
}

self.__pending = [];

(function () {
  let booting = false;

  function report(text) {
    self.postMessage({ type: "status", level: "error", text: text });
  }

  async function instantiate(wasm, importObject) {
    if (wasm instanceof WebAssembly.Module) {
      return WebAssembly.instantiate(wasm, importObject); // an Instance
    }
    if (typeof wasm === "string") {
      const resp = fetch(wasm);
      if (WebAssembly.instantiateStreaming) {
        try {
          return (await WebAssembly.instantiateStreaming(resp, importObject)).instance;
        } catch (e) {
          // A server without the application/wasm type: read the bytes.
        }
      }
      const bytes = await (await fetch(wasm)).arrayBuffer();
      return (await WebAssembly.instantiate(bytes, importObject)).instance;
    }
    if (ArrayBuffer.isView(wasm)) {
      wasm = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength);
    }
    return (await WebAssembly.instantiate(wasm, importObject)).instance;
  }

  async function boot(msg) {
    if (typeof Go === "undefined") {
      throw new Error("wasm_exec.js is missing: Go's WebAssembly support did not load");
    }
    const go = new Go();
    if (Array.isArray(msg.argv)) go.argv = msg.argv.slice();
    if (msg.env && typeof msg.env === "object") go.env = Object.assign({}, msg.env);
    const instance = await instantiate(msg.wasm, go.importObject);
    // The engine reports its memory (it only grows: the size is the peak).
    self.__wasmMemory = instance.exports.mem;
    // run resolves only if the Go program ends, which the engine never does.
    go.run(instance).then(
      () => report("The engine stopped."),
      (e) => report("The engine crashed: " + e),
    );
  }

  self.onmessage = function (e) {
    const msg = e.data;
    if (!booting && msg && msg.type === "boot") {
      booting = true;
      boot(msg).catch((err) => {
        booting = false;
        report("The engine failed to start: " + (err && err.message ? err.message : err));
      });
      return;
    }
    // Until Go replaces this handler: keep the message for it.
    self.__pending.push(msg);
  };
})();
