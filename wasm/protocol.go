//go:build js && wasm

package wasm

// The message protocol between the page and the engine worker. Every
// message is a plain JS object {type: Msg…, …fields}, sent with
// postMessage. Pixel buffers and ImageBitmaps always travel in the transfer
// list (never structured-clone copies); File objects are cloned (cheap:
// handles, not bytes).
//
// Field names are given as they appear on the JS object.

// Page → worker.
const (
	// MsgBoot {wasm: ArrayBuffer}: sent by worker.js itself, not by Go.
	MsgBoot = "boot"

	// MsgAddFiles {domain: "A"|"B", files: [File], paths: [string]}: append
	// files to a domain (paths are the relative paths, for messages). Files
	// that are plainly not images (by type and extension) are reported at
	// once; the rest are decoded lazily when training first needs them.
	MsgAddFiles = "addFiles"
	// MsgClearDomain {domain: "A"|"B"}: forget a domain's files.
	MsgClearDomain = "clearDomain"
	// MsgDemo {}: use the built-in procedural domains (no files needed).
	MsgDemo = "demo"
	// MsgStart {config: Settings}: start a new run on the current domains.
	MsgStart = "start"
	// MsgPause {}: pause training and save a checkpoint.
	MsgPause = "pause"
	// MsgResume {id?: string}: continue a paused run, or (with id) resume
	// the saved checkpoint of that id on the current domains.
	MsgResume = "resume"
	// MsgSave {reason: string}: save a checkpoint now (page hidden, …).
	MsgSave = "save"
	// MsgTranslate {req: number, direction: "AtoB"|"BtoA", file: File}:
	// translate one image at its own size.
	MsgTranslate = "translate"
	// MsgFrame {req: number, direction: "AtoB"|"BtoA", bitmap: ImageBitmap,
	// size: number}: translate one webcam frame, resized to size×size.
	MsgFrame = "frame"
	// MsgExport {what: "checkpoint"|"G_A"|"G_B", req?}: answer with MsgFile
	// (or an error MsgStatus) carrying req.
	MsgExport = "export"
	// MsgImport {name: string, bytes: ArrayBuffer}: load a checkpoint or a
	// bare generator file (a bare generator becomes the A → B generator).
	MsgImport = "import"
	// MsgListModels {}: answer with MsgModels.
	MsgListModels = "listModels"
	// MsgDeleteModel {id: string}
	MsgDeleteModel = "deleteModel"
	// MsgPeers {ports: [MessagePort]}: ports to peer workers (RunPeer, one
	// per extra core, each sent MsgPeer) that train with this one. Training
	// uses them when Settings.Workers allows.
	MsgPeers = "peers"
	// MsgWorkers {count: number}: how many workers training may use (0:
	// all there are); takes effect at the next run or resume.
	MsgWorkers = "workers"
)

// Page → peer worker (booted with env CYCLEGAN_ROLE=peer).
const (
	// MsgPeer {port: MessagePort}: serve the engine worker on this port.
	MsgPeer = "peer"
)

// Worker → page.
const (
	// MsgReady {models: [ModelInfo], usage, quota}: the engine is up.
	MsgReady = "ready"
	// MsgIntake {domain, count, skipped: [{name, reason}]}: a domain's
	// image count and every file skipped so far (sent after MsgAddFiles and
	// whenever training skips a file).
	MsgIntake = "intake"
	// MsgProgress {iteration, total, itPerSec, etaSeconds, lr, workers,
	// memory, peerMemory (bytes of each worker's WebAssembly memory: its
	// peak), split (null on one worker; on two, milliseconds summed over
	// the run's steps: {steps, gen, disc, finish, exchange, copy, wait,
	// peerBusy, delivery, peerGen, peerDisc}, see splitTiming), losses:
	// {D_A, G_A, cycle_A, idt_A, D_B, G_B, cycle_B, idt_B, G}}
	MsgProgress = "progress"
	// MsgPreview {iteration, size, images: [6 × ArrayBuffer]}: RGBA
	// size×size×4 each, in the order real A, fake B, rec A, real B, fake A,
	// rec B.
	MsgPreview = "preview"
	// MsgStatus {text, level: "info"|"warn"|"error"}: the latest message
	// in words, shown in #status.
	MsgStatus = "status"
	// MsgState {state: "idle"|"training"|"paused", iteration, total,
	// hasModel: bool, data: "none"|"demo"|"files"}
	MsgState = "state"
	// MsgSaved {id, iteration, bytes}: a checkpoint was written to IndexedDB.
	MsgSaved = "saved"
	// MsgModels {models: [ModelInfo], usage, quota}: the saved models, with
	// storage used and quota in bytes (navigator.storage.estimate).
	MsgModels = "models"
	// MsgTranslated {req, width, height, pixels: ArrayBuffer (RGBA)}
	MsgTranslated = "translated"
	// MsgFrameOut {req, width, height, pixels: ArrayBuffer, ms: number}
	MsgFrameOut = "frameOut"
	// MsgFile {name, bytes: ArrayBuffer, req}: a file for the page to
	// download, or for the request req (MsgExport) to use.
	MsgFile = "file"
)

// ModelInfo is one saved checkpoint as listed to the page:
// {id, name, iteration, total, date (ms since epoch), size (bytes), config}.
type ModelInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Iteration int    `json:"iteration"`
	Total     int    `json:"total"`
	Date      int64  `json:"date"`
	Size      int    `json:"size"`
	Data      string `json:"data"` // "demo" or "files": what it was trained on
}

// Settings are what the page's controls choose for a new run
// ({size, ngf, blocks, ndf, identity, iterations, seed, checkpointEvery,
// workers}). Workers is how many engine workers train (0: all there are).
type Settings struct {
	Size            int     `json:"size"`
	NGF             int     `json:"ngf"`
	Blocks          int     `json:"blocks"`
	NDF             int     `json:"ndf"`
	Identity        float64 `json:"identity"`
	Iterations      int     `json:"iterations"`
	Seed            uint64  `json:"seed"`
	CheckpointEvery int     `json:"checkpointEvery"`
	Workers         int     `json:"workers"`
}
