//go:build js && wasm

package wasm

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/cyclegan-wasm/cyclegan/cyclegan"
	"github.com/cyclegan-wasm/cyclegan/engine"
)

// Two engine workers.
//
// Go on wasm has one thread per instance, so a second core means a second
// Web Worker with its own Go instance: the peer (RunPeer). The page starts
// it next to the engine worker and joins the two with a MessageChannel
// (MsgPeer to the peer, MsgPeers to the engine). The engine worker stays
// the only one the page talks to: it samples both images, and each
// iteration runs as cyclegan.SplitTrainer describes, the engine worker as
// half 0 (A → B → A, D_A) and the peer as half 1 (B → A → B, D_B):
//
//	engine worker, iteration k                 peer, on each message in turn
//	splitGen {a, b, identity} ───────────────▶ splitGen: GeneratorHalf(B),
//	GeneratorHalf(A); splitMsg {msg} ▶           ◀ splitMsg {msg, fake_A, rec_B},
//	DiscriminatorHalf(B); splitDisc {msg} ▶      DiscriminatorHalf(A),
//	◀ splitDisc of k−1; FinishDiscriminator      ◀ splitDisc {msg}
//	◀ splitMsg of k; FinishGenerators          splitMsg: FinishGenerators
//	                                           splitDisc: FinishDiscriminator
//
// Each worker sends the generator part of its message (the generators'
// gradient with the losses) as soon as its generator half is done, and
// needs the other's only after its own discriminator half. Each steps its
// own discriminator in FinishGenerators; the discriminator part (that
// discriminator's loss and whether it stepped) only reports, so the
// engine worker takes the peer's of iteration k−1 just before its
// generator part of k, which the peer posts after it. So the two workers
// do not wait for each other to end an iteration: a worker that is slower
// in one iteration has a discriminator half's time to catch up. Its one cost: the engine worker learns the peer's
// discriminator loss one iteration late, so its losses report D_B of the
// previous iteration (see splitCoordinator.Step).
//
// A core that stays slower for a while (another tab, an efficiency core)
// would hold both workers to its pace. So the engine worker also tells the
// peer in splitGen how many identity terms to compute: the worker on the
// faster core takes both when that shortens the iteration
// (cyclegan.IdentityBalancer, from both workers' timings).
//
// Every buffer is in the transfer list: it moves, it is not
// structured-clone copied, and the receiver reuses it for a message of its
// own once it has copied it into its Go heap (bufferPool). (Go's wasm
// memory cannot be shared, so a SharedArrayBuffer would not save the copy
// out of and into each Go heap.)
// The run starts on the peer from a checkpoint of the engine worker's
// trainer (splitInit), so the two replicas start bit-identical; the peer
// sends its pool's images and its discriminator's state when the engine
// worker writes a checkpoint (splitState). A peer that fails or falls
// silent ends the two-worker run: the engine worker goes on alone from the
// last checkpoint (peerFailed).

// Messages between the engine worker (→) and the peer (←) on their port.
const (
	// splitInit → {ckpt: ArrayBuffer}: become half 1 of this run.
	// ← splitReady {}.
	splitInit  = "splitInit"
	splitReady = "splitReady"
	// splitGen → {a: ArrayBuffer, b: ArrayBuffer, identity}: real A and
	// real B, float32 [1, 3, S, S], and how many of the two identity terms
	// the peer computes (cyclegan.SplitTrainer.GeneratorBackwardSharing;
	// 1 if absent); start the iteration.
	splitGen = "splitGen"
	// splitMsg ⇄ {msg: ArrayBuffer[, fake, rec, memory, ms, postedAt]}:
	// the generator part of cyclegan.SplitTrainer's message (the peer adds
	// fake_A and rec_B, for the previews, its memory in bytes, how many
	// milliseconds its generator half took and when it posted the message,
	// wallMS).
	splitMsg = "splitMsg"
	// splitDisc ⇄ {msg: ArrayBuffer[, ms, postedAt]}: the discriminator
	// part (the peer adds how long its discriminator half took and when it
	// posted the message).
	splitDisc = "splitDisc"
	// splitState → {}; ← {images: [ArrayBuffer], d: ArrayBuffer, steps:
	// [number]}: the peer's cyclegan.SplitTrainer.OwnState (pool_A and
	// D_B's weights and Adam state), for a checkpoint.
	splitState = "splitState"
	// splitError ← {text}: the peer could not do what it was asked.
	splitError = "splitError"

	// peerFrame → {req, bitmap: ImageBitmap, size, direction[, gen:
	// ArrayBuffer]}: translate a webcam frame with the generator of that
	// direction (gen: its weights, when they changed). ← MsgFrameOut as the
	// page wants it, or peerFrameError {req, direction, text}.
	peerFrame      = "peerFrame"
	peerFrameError = "peerFrameError"
)

// PeerRoleEnv is the environment variable (worker.js boot message, env)
// that makes the app's wasm program a peer (RunPeer) rather than the
// engine worker.
const PeerRoleEnv = "CYCLEGAN_ROLE"

// IsPeer reports whether this Go instance was booted as a peer.
func IsPeer() bool { return os.Getenv(PeerRoleEnv) == "peer" }

// errPeer is wrapped by every failure of the other worker or of the link
// to it: the two-worker run cannot go on.
var errPeer = errors.New("second engine worker")

const (
	// peerInitTimeout bounds the wait for a peer to take a run (it may
	// still be compiling and starting its Go instance).
	peerInitTimeout = 3 * time.Minute
	// peerMinTimeout is the least wait for a reply within an iteration;
	// the wait grows with the iteration time (peerTimeoutFactor × the last
	// one).
	peerMinTimeout    = 2 * time.Minute
	peerTimeoutFactor = 20
)

// portConn is one end of a MessageChannel between two workers: messages in
// arrive in a queue (the onmessage callback must never block) and recv
// takes them in order.
type portConn struct {
	port    js.Value
	in      *inbox
	pending []js.Value
	onMsg   js.Func
	// buffers carries the messages' float32 data: every buffer that
	// arrives on this port is reused for one that leaves.
	buffers bufferPool
	// intercept, when set, sees every message first, in the callback: a
	// message it takes (returns true for) is not queued.
	intercept func(js.Value) bool
}

func newPortConn(port js.Value) *portConn {
	c := &portConn{port: port, in: &inbox{wake: make(chan struct{}, 1)}}
	c.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			m := args[0].Get("data")
			if c.intercept == nil || !c.intercept(m) {
				c.in.push(m)
			}
		}
		return nil
	})
	port.Set("onmessage", c.onMsg) // also starts the port
	return c
}

func (c *portConn) send(typ string, fields map[string]any, transfer ...any) {
	msg := js.Global().Get("Object").New()
	msg.Set("type", typ)
	for k, v := range fields {
		msg.Set(k, v)
	}
	if len(transfer) > 0 {
		c.port.Call("postMessage", msg, js.ValueOf(transfer))
	} else {
		c.port.Call("postMessage", msg)
	}
}

// recv returns the next message, waiting at most timeout (0: forever).
func (c *portConn) recv(timeout time.Duration) (js.Value, error) {
	var expire <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expire = t.C
	}
	for len(c.pending) == 0 {
		c.pending = c.in.take()
		if len(c.pending) > 0 {
			break
		}
		select {
		case <-c.in.wake:
		case <-expire:
			return js.Undefined(), fmt.Errorf("no answer in %v: %w", timeout.Round(time.Second), errPeer)
		}
	}
	m := c.pending[0]
	c.pending = c.pending[1:]
	return m, nil
}

// expect receives the next message and checks it is of type typ; a
// splitError from the peer becomes an error with its text.
func (c *portConn) expect(typ string, timeout time.Duration) (js.Value, error) {
	m, err := c.recv(timeout)
	if err != nil {
		return m, fmt.Errorf("waiting for %s: %w", typ, err)
	}
	got := str(m.Get("type"))
	if got == splitError {
		return m, fmt.Errorf("%s: %w", str(m.Get("text")), errPeer)
	}
	if got != typ {
		return m, fmt.Errorf("sent %q where %q was due: %w", got, typ, errPeer)
	}
	return m, nil
}

// float32sToJS copies f into a new ArrayBuffer (to be transferred).
func float32sToJS(f []float32) js.Value {
	if len(f) == 0 {
		return js.Global().Get("ArrayBuffer").New(0)
	}
	return bytesToJS(float32Bytes(f))
}

// float32Bytes is f's memory as bytes (wasm is little-endian, as the
// Float32Array the other side may view them with).
func float32Bytes(f []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
}

// float32sFromJS fills dst from an ArrayBuffer of exactly len(dst) float32
// values (wasm is little-endian on both sides).
func float32sFromJS(dst []float32, ab js.Value, what string) error {
	if !ab.InstanceOf(js.Global().Get("ArrayBuffer")) {
		return fmt.Errorf("%s: not an ArrayBuffer: %w", what, errPeer)
	}
	if n := ab.Get("byteLength").Int(); n != 4*len(dst) {
		return fmt.Errorf("%s: %d bytes, want %d: %w", what, n, 4*len(dst), errPeer)
	}
	if len(dst) == 0 {
		return nil
	}
	js.CopyBytesToGo(float32Bytes(dst), js.Global().Get("Uint8Array").New(ab))
	return nil
}

// bufferPool keeps the ArrayBuffers that arrived from the other worker,
// once their contents are in the Go heap, to carry the next message of the
// same size back. Every iteration each worker sends and receives buffers
// of the same sizes (both generators' gradient, the images), so after the
// first iteration no message needs a new buffer.
// That matters: copying preset M's 15.7 MB generator gradient into a fresh
// ArrayBuffer takes 36 ms in Chromium (about 100 ms while both workers
// train), into a recycled one 1.3 ms (BenchmarkMessageOut), and the other
// worker waits on those copies.
type bufferPool struct {
	free map[int][]js.Value // by byte length
}

// maxPooled bounds the buffers kept per size; a worker never has more than
// two of one size in flight (real A and B, or fake and rec).
const maxPooled = 4

// float32sToJS copies f into an ArrayBuffer to be transferred: a kept one
// of its size, or a new one.
func (p *bufferPool) float32sToJS(f []float32) js.Value {
	n := 4 * len(f)
	list := p.free[n]
	if n == 0 || len(list) == 0 {
		return float32sToJS(f)
	}
	ab := list[len(list)-1]
	list[len(list)-1] = js.Undefined()
	p.free[n] = list[:len(list)-1]
	js.CopyBytesToJS(js.Global().Get("Uint8Array").New(ab), float32Bytes(f))
	return ab
}

// float32sFromJS is float32sFromJS, which then keeps ab for a later message:
// ab must be this worker's (transferred to it) and not used again.
func (p *bufferPool) float32sFromJS(dst []float32, ab js.Value, what string) error {
	if err := float32sFromJS(dst, ab, what); err != nil {
		return err
	}
	if n := 4 * len(dst); n > 0 && len(p.free[n]) < maxPooled {
		if p.free == nil {
			p.free = map[int][]js.Value{}
		}
		p.free[n] = append(p.free[n], ab)
	}
	return nil
}

// ---- The engine worker's side.

// splitCoordinator is a Session's Stepper on the engine worker when a peer
// trains with it: half 0 of the run, and the messages to half 1.
type splitCoordinator struct {
	conn  *portConn
	split *cyclegan.SplitTrainer

	otherMsg []float32
	otherD   [cyclegan.SplitDiscriminatorFloats]float32
	// lastDB is the peer's discriminator loss of the last iteration whose
	// discriminator part came in (NaN before the first).
	lastDB float64
	// The peer's side of the latest iteration, for the previews: real B
	// (sampled here), fake A and rec B (from the peer).
	realB, fakeA, recB *engine.Tensor
	lastStep           time.Duration
	peerMemory         int // bytes, as the peer last reported
	timing             splitTiming

	// identity chooses who computes the identity terms; lastPeerDisc is
	// the peer's latest discriminator half (ms), which arrives an
	// iteration late. identityTerms, when set (tests), overrides it: the
	// engine worker's count in an iteration.
	identity      cyclegan.IdentityBalancer
	lastPeerDisc  float64
	identityTerms func(iteration int) int
}

// splitTiming adds up where the iterations of a two-worker run spend
// their time on each worker, in milliseconds, so that a benchmark can say
// what keeps two workers from twice one's speed.
type splitTiming struct {
	Steps int // iterations timed
	// On the engine worker: GeneratorForward and GeneratorBackward;
	// DiscriminatorHalf; FinishDiscriminator and FinishGenerators (the
	// Adam steps of the generators and of D_A); and the exchange, Copy +
	// Wait: copying the messages out of and into the Go heap and posting
	// them, and waiting for the peer's two messages to arrive.
	Gen, Disc, Finish, Copy, Wait float64
	// Wait in two parts: PeerBusy, while the peer had yet to post the
	// message (it was still computing), and Delivery, from the later of
	// that post and the start of the wait until the message is in Go (the
	// browser's delivery and Go's wake-up). The two workers' clocks are
	// the same wall clock (wallMS).
	PeerBusy, Delivery float64
	// The peer's generator half and discriminator half, as it reports them.
	PeerGen, PeerDisc float64
	// Moved counts the iterations in which one worker computed both
	// identity terms (cyclegan.IdentityBalancer).
	Moved int
}

// js is the timing as MsgProgress carries it.
func (t splitTiming) js() map[string]any {
	return map[string]any{"steps": t.Steps, "gen": t.Gen, "disc": t.Disc, "finish": t.Finish,
		"exchange": t.Copy + t.Wait, "copy": t.Copy, "wait": t.Wait, "peerBusy": t.PeerBusy, "delivery": t.Delivery,
		"peerGen": t.PeerGen, "peerDisc": t.PeerDisc, "moved": t.Moved}
}

func sinceMS(t time.Time) float64 { return toMS(time.Since(t)) }

func toMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// wallMS is the wall clock in milliseconds as the browser keeps it for
// every worker (performance.timeOrigin + performance.now()), so that a time
// one worker reads can be compared with one the other reads.
func wallMS() float64 {
	p := js.Global().Get("performance")
	return p.Get("timeOrigin").Float() + p.Call("now").Float()
}

// startSplit hands t's state to the peer on conn and makes t half 0 of a
// two-worker run. On failure t is untouched.
func startSplit(conn *portConn, t *cyclegan.Trainer) (*splitCoordinator, error) {
	ckpt, err := cyclegan.MarshalCheckpoint(t, nil)
	if err != nil {
		return nil, err
	}
	buf := bytesToJS(ckpt)
	conn.send(splitInit, map[string]any{"ckpt": buf}, buf)
	if err := awaitReady(conn); err != nil {
		return nil, err
	}
	s, err := cyclegan.Split(t, 0)
	if err != nil {
		return nil, err
	}
	size := t.Config.CropSize
	return &splitCoordinator{
		conn: conn, split: s,
		otherMsg: make([]float32, cyclegan.SplitGeneratorFloats(t.Config)), lastDB: math.NaN(),
		realB: engine.New(1, 3, size, size), fakeA: engine.New(1, 3, size, size), recB: engine.New(1, 3, size, size),
	}, nil
}

// awaitReady waits for the peer's splitReady. A discriminator part the
// peer sent in a run this worker left before taking it
// (a restored checkpoint, a new run) may come first: it is of no more use.
func awaitReady(conn *portConn) error {
	for {
		m, err := conn.expect(splitReady, peerInitTimeout)
		if err != nil && str(m.Get("type")) == splitDisc {
			continue
		}
		return err
	}
}

func (c *splitCoordinator) timeout() time.Duration {
	return max(peerMinTimeout, peerTimeoutFactor*c.lastStep)
}

// Step runs one iteration on both workers (cyclegan.Stepper). Its losses
// are the iteration's, but for the peer's discriminator loss (D_B), which
// comes in during the next iteration: D_B is the previous iteration's (NaN
// for the first of the run). An error may also be about the previous
// iteration's discriminator step (discarded as non-finite).
func (c *splitCoordinator) Step(realA, realB *engine.Tensor) (cyclegan.Losses, error) {
	start := time.Now()
	// lap is the milliseconds since the previous lap (or the start): each
	// stretch of the iteration is charged to one of gen, disc, finish,
	// copying and waiting.
	t0 := start
	lap := func() float64 {
		now := time.Now()
		ms := toMS(now.Sub(t0))
		t0 = now
		return ms
	}
	var gen, disc, finish, copying, waiting, peerBusy float64
	buffers := &c.conn.buffers
	// wait receives the peer's next message, of type typ: the time since
	// the last lap (posting a message) is charged to copying, the wait to
	// waiting.
	wait := func(typ string) (js.Value, error) {
		copying += lap()
		from := wallMS()
		m, err := c.conn.expect(typ, c.timeout())
		to := wallMS()
		waiting += lap()
		if err != nil {
			return m, err
		}
		if posted := m.Get("postedAt"); posted.Type() == js.TypeNumber {
			peerBusy += min(max(posted.Float()-from, 0), to-from)
		}
		return m, err
	}

	// Who computes the identity terms (none without identity loss).
	balance := c.split.Trainer.Config.LambdaIdentity > 0
	terms := 1
	if c.identityTerms != nil {
		terms = c.identityTerms(c.split.Trainer.Iteration + 1)
	} else if balance {
		terms = c.identity.Terms()
	}
	copy(c.realB.Data, realB.Data)
	a, b := buffers.float32sToJS(realA.Data), buffers.float32sToJS(realB.Data)
	c.conn.send(splitGen, map[string]any{"a": a, "b": b, "identity": 2 - terms}, a, b)
	copying += lap()

	if err := c.split.GeneratorForward(realA); err != nil {
		return cyclegan.Losses{}, fmt.Errorf("%v: %w", err, errPeer)
	}
	_, gmsg, _, err := c.split.GeneratorBackwardSharing(terms, c.realB)
	gen += lap()
	if err != nil {
		return cyclegan.Losses{}, fmt.Errorf("%v: %w", err, errPeer)
	}
	m := buffers.float32sToJS(gmsg)
	c.conn.send(splitMsg, map[string]any{"msg": m}, m)
	copying += lap()
	msg, _, err := c.split.DiscriminatorHalf(realB)
	disc += lap()
	if err != nil {
		return cyclegan.Losses{}, fmt.Errorf("%v: %w", err, errPeer)
	}
	d := buffers.float32sToJS(msg[len(gmsg):])
	c.conn.send(splitDisc, map[string]any{"msg": d}, d)

	// The peer's discriminator part of the last iteration: it posted it
	// before the generator part this iteration waits for, so waiting for
	// it costs nothing the next wait would not.
	var errD error
	if c.split.PendingDiscriminator() {
		m, err := wait(splitDisc)
		if err == nil {
			err = c.finishDiscriminator(m)
		}
		if err != nil && !errors.Is(err, cyclegan.ErrNonFinite) {
			return cyclegan.Losses{}, err
		}
		errD = err
		finish += lap()
	}
	reply, err := wait(splitMsg)
	peerGen := 0.0
	if err == nil {
		peerGen = reply.Get("ms").Float()
		c.timing.PeerGen += peerGen
		err = errors.Join(buffers.float32sFromJS(c.otherMsg, reply.Get("msg"), "message"),
			buffers.float32sFromJS(c.fakeA.Data, reply.Get("fake"), "fake A"),
			buffers.float32sFromJS(c.recB.Data, reply.Get("rec"), "rec B"))
		if mem := reply.Get("memory"); mem.Type() == js.TypeNumber {
			c.peerMemory = mem.Int()
		}
	}
	if err != nil {
		return cyclegan.Losses{}, err
	}
	copying += lap()
	l, errG := c.split.FinishGenerators(c.otherMsg)
	finish += lap()
	if errG != nil && !errors.Is(errG, cyclegan.ErrNonFinite) {
		return l, fmt.Errorf("%v: %w", errG, errPeer)
	}
	l.DB = c.lastDB
	c.lastStep = time.Since(start)
	tm := &c.timing
	tm.Steps++
	tm.Gen, tm.Disc, tm.Finish = tm.Gen+gen, tm.Disc+disc, tm.Finish+finish
	tm.Copy, tm.Wait = tm.Copy+copying, tm.Wait+waiting
	tm.PeerBusy, tm.Delivery = tm.PeerBusy+peerBusy, tm.Delivery+max(waiting-peerBusy, 0)
	if terms != 1 {
		tm.Moved++
	}
	// The peer's busy time: this iteration's generator half and the last
	// one's discriminator half (this one's is still on its way; none
	// before the second iteration).
	if balance && c.lastPeerDisc > 0 {
		c.identity.Next([2]float64{gen + disc, peerGen + c.lastPeerDisc}, [2]float64{gen, peerGen})
	}
	return l, errors.Join(errD, errG)
}

// finishDiscriminator takes the peer's discriminator part of the last
// iteration (m, a splitDisc): whether D_B stepped, for the count of bad
// steps, and its loss, which goes to the next Step's losses.
func (c *splitCoordinator) finishDiscriminator(m js.Value) error {
	c.lastPeerDisc = m.Get("ms").Float()
	c.timing.PeerDisc += c.lastPeerDisc
	if err := c.conn.buffers.float32sFromJS(c.otherD[:], m.Get("msg"), "discriminator message"); err != nil {
		return err
	}
	l, err := c.split.FinishDiscriminator(c.otherD[:])
	c.lastDB = l.DB
	if err != nil && !errors.Is(err, cyclegan.ErrNonFinite) {
		return fmt.Errorf("%v: %w", err, errPeer)
	}
	return err
}

// flush completes the last iteration: the peer's discriminator part, if
// one is due.
func (c *splitCoordinator) flush() error {
	if !c.split.PendingDiscriminator() {
		return nil
	}
	m, err := c.conn.expect(splitDisc, c.timeout())
	if err == nil {
		err = c.finishDiscriminator(m)
	}
	return err
}

// Checkpoint writes the run's checkpoint with the peer's pool and
// discriminator (cyclegan.Stepper).
func (c *splitCoordinator) Checkpoint(extra map[string]string) ([]byte, error) {
	if err := c.flush(); err != nil && !errors.Is(err, cyclegan.ErrNonFinite) {
		return nil, err
	}
	c.conn.send(splitState, nil)
	m, err := c.conn.expect(splitState, c.timeout())
	if err != nil {
		return nil, err
	}
	cfg := c.split.Trainer.Config
	size := cfg.CropSize
	imgs := m.Get("images")
	pool := make([]*engine.Tensor, imgs.Length())
	for i := range pool {
		pool[i] = engine.New(1, 3, size, size)
		if err := c.conn.buffers.float32sFromJS(pool[i].Data, imgs.Index(i), "pool image"); err != nil {
			return nil, err
		}
	}
	d := make([]float32, cyclegan.SplitStateFloats(cfg))
	if err := float32sFromJS(d, m.Get("d"), "discriminator state"); err != nil {
		return nil, err
	}
	st := m.Get("steps")
	steps := make([]int64, st.Length())
	for i := range steps {
		steps[i] = int64(st.Index(i).Float())
	}
	return c.split.MarshalCheckpoint(pool, d, steps, extra)
}

// preview is the latest iteration's six images, from both workers.
func (c *splitCoordinator) preview() cyclegan.Preview {
	p := c.split.Trainer.LastPreview()
	if p.RealA != nil {
		p.RealB, p.FakeA, p.RecB = c.realB, c.fakeA, c.recB
	}
	return p
}

// ---- The peer's side.

// RunPeer runs the current Web Worker as the second engine of two-worker
// runs; it never returns. It waits for MsgPeer {port} from the page, then
// serves the engine worker on that port. It has no other contact with the
// page than an error status.
func RunPeer() {
	self := js.Global()
	ports := make(chan js.Value, 1)
	take := func(m js.Value) {
		if m.Type() == js.TypeObject && str(m.Get("type")) == MsgPeer {
			select {
			case ports <- m.Get("port"):
			default:
			}
		}
	}
	self.Set("onmessage", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			take(args[0].Get("data"))
		}
		return nil
	}))
	if p := self.Get("__pending"); p.Type() == js.TypeObject {
		for i, n := 0, p.Get("length").Int(); i < n; i++ {
			take(p.Index(i))
		}
		self.Set("__pending", js.Undefined())
	}
	p := &peer{conn: newPortConn(<-ports)}
	for {
		m, _ := p.conn.recv(0)
		p.handle(m)
	}
}

// peer is half 1 of the engine worker's two-worker runs, and translates
// webcam frames for it when it does not train.
type peer struct {
	conn  *portConn
	split *cyclegan.SplitTrainer

	gens   map[string]*cyclegan.Generator // by direction
	frames cyclegan.Translator
	dec    decoder

	realA, realB *engine.Tensor
	otherMsg     []float32
	otherD       [cyclegan.SplitDiscriminatorFloats]float32
}

// handle answers one message of the engine worker; a failure becomes a
// splitError (the peer itself survives it).
func (p *peer) handle(m js.Value) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				r = jsError(je.Value)
			}
			println("cyclegan peer: panic:", fmt.Sprint(r), "\n", string(debug.Stack()))
			p.fail(fmt.Errorf("internal error: %v", r))
		}
	}()
	typ := str(m.Get("type"))
	if typ == peerFrame {
		p.frame(m)
		return
	}
	if typ != splitInit && typ != splitState && p.split == nil {
		p.fail(fmt.Errorf("%s before %s", typ, splitInit))
		return
	}
	var err error
	switch typ {
	case splitInit:
		err = p.init(m)
	case splitGen:
		err = p.halves(m)
	case splitMsg:
		if err = p.conn.buffers.float32sFromJS(p.otherMsg, m.Get("msg"), "message"); err == nil {
			_, err = p.split.FinishGenerators(p.otherMsg)
		}
	case splitDisc:
		if err = p.conn.buffers.float32sFromJS(p.otherD[:], m.Get("msg"), "discriminator message"); err == nil {
			_, err = p.split.FinishDiscriminator(p.otherD[:])
		}
	case splitState:
		p.sendState()
	default:
		err = fmt.Errorf("unknown message %q", typ)
	}
	if err != nil && !errors.Is(err, cyclegan.ErrNonFinite) {
		p.fail(err)
	}
}

func (p *peer) fail(err error) {
	p.conn.send(splitError, map[string]any{"text": err.Error()})
}

func (p *peer) init(m js.Value) error {
	p.split = nil
	t, _, err := cyclegan.UnmarshalCheckpoint(bytesFromJS(m.Get("ckpt")))
	if err != nil {
		return err
	}
	s, err := cyclegan.Split(t, 1)
	if err != nil {
		return err
	}
	size := t.Config.CropSize
	p.split = s
	p.realA, p.realB = engine.New(1, 3, size, size), engine.New(1, 3, size, size)
	p.otherMsg = make([]float32, cyclegan.SplitGeneratorFloats(t.Config))
	p.conn.send(splitReady, nil)
	return nil
}

// halves runs both halves of the peer's iteration (splitGen) and sends
// each part of its message as soon as it is ready. The last
// discriminator step is in: the engine worker's discriminator part of the
// last iteration came before this splitGen.
func (p *peer) halves(m js.Value) error {
	in := &p.conn.buffers
	if err := errors.Join(in.float32sFromJS(p.realA.Data, m.Get("a"), "real A"),
		in.float32sFromJS(p.realB.Data, m.Get("b"), "real B")); err != nil {
		return err
	}
	terms := 1
	if n := m.Get("identity"); n.Type() == js.TypeNumber {
		terms = n.Int()
	}
	t0 := time.Now()
	if err := p.split.GeneratorForward(p.realB); err != nil {
		return err
	}
	fake, gmsg, _, err := p.split.GeneratorBackwardSharing(terms, p.realA)
	if err != nil {
		return err
	}
	msGen := sinceMS(t0)
	rec := p.split.Trainer.LastPreview().RecB
	out := &p.conn.buffers
	n := len(gmsg)
	g, f, r := out.float32sToJS(gmsg), out.float32sToJS(fake.Data), out.float32sToJS(rec.Data)
	p.conn.send(splitMsg, map[string]any{"msg": g, "fake": f, "rec": r, "memory": wasmMemoryBytes(),
		"ms": msGen, "postedAt": wallMS()}, g, f, r)

	t0 = time.Now()
	msg, _, err := p.split.DiscriminatorHalf(p.realA)
	if err != nil {
		return err
	}
	msDisc := sinceMS(t0)
	d := out.float32sToJS(msg[n:])
	p.conn.send(splitDisc, map[string]any{"msg": d, "ms": msDisc, "postedAt": wallMS()}, d)
	return nil
}

// sendState answers splitState with the peer's OwnState (nothing before a
// run).
func (p *peer) sendState() {
	var imgs, steps []any
	d := js.Global().Get("ArrayBuffer").New(0)
	if p.split != nil {
		if p.split.PendingDiscriminator() {
			p.fail(fmt.Errorf("%s with the discriminator step of iteration %d due", splitState, p.split.Trainer.Iteration))
			return
		}
		pool, state, st := p.split.OwnState()
		for _, t := range pool {
			imgs = append(imgs, p.conn.buffers.float32sToJS(t.Data))
		}
		d = float32sToJS(state)
		for _, n := range st {
			steps = append(steps, n)
		}
	}
	p.conn.send(splitState, map[string]any{"images": imgs, "d": d, "steps": steps}, append(imgs, d)...)
}

// frame translates a webcam frame for the engine worker (peerFrame).
func (p *peer) frame(m js.Value) {
	req, dir, bm := m.Get("req"), str(m.Get("direction")), m.Get("bitmap")
	defer func() {
		if bm.Type() == js.TypeObject && bm.Get("close").Type() == js.TypeFunction {
			bm.Call("close")
		}
	}()
	err := func() error {
		if gen := m.Get("gen"); gen.Type() == js.TypeObject {
			g, err := cyclegan.UnmarshalGenerator(bytesFromJS(gen), "")
			if err != nil {
				return err
			}
			if p.gens == nil {
				p.gens = map[string]*cyclegan.Generator{}
			}
			p.gens[dir] = g
		}
		g := p.gens[dir]
		if g == nil {
			return fmt.Errorf("the second worker has no %s generator", dir)
		}
		size := m.Get("size").Int()
		pix, ms, err := translateFrame(&p.dec, &p.frames, g, bm, size)
		if err != nil {
			return err
		}
		p.conn.send(MsgFrameOut, map[string]any{"req": req, "width": size, "height": size, "pixels": pix, "ms": ms, "worker": 2}, pix)
		return nil
	}()
	if err != nil {
		p.conn.send(peerFrameError, map[string]any{"req": req, "direction": dir, "text": err.Error()})
	}
}
