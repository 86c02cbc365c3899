package cyclegan

import "testing"

// Presets of the benchmark table (issue: presets S and M).
func presetS() Config {
	c := DefaultConfig()
	c.CropSize, c.LoadSize, c.NGF, c.Blocks, c.NDF = 64, 72, 16, 3, 64
	return c
}

func presetM() Config {
	c := DefaultConfig()
	c.CropSize, c.LoadSize, c.NGF, c.Blocks, c.NDF = 128, 143, 32, 6, 64
	return c
}

// benchStep times Trainer.Step in steady state: the pools are full and the
// tapes have seen the shapes before, so a step should allocate nothing.
func benchStep(b *testing.B, cfg Config) {
	cfg.PoolSize = 2 // full after two steps, as in a long run
	tr, err := NewTrainer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	a, bb := randomPair(1, cfg.CropSize)
	for i := 0; i < 3; i++ {
		if _, err := tr.Step(a, bb); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.Step(a, bb); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/iter")
}

// atSize is cfg at another image size (the scaling rows of make bench).
func atSize(cfg Config, size int) Config {
	cfg.CropSize, cfg.LoadSize = size, size+size/8
	return cfg
}

func BenchmarkTrainerStep_S_64px_ngf16_3blocks(b *testing.B)  { benchStep(b, presetS()) }
func BenchmarkTrainerStep_M_128px_ngf32_6blocks(b *testing.B) { benchStep(b, presetM()) }
func BenchmarkTrainerStep_M64px(b *testing.B)                 { benchStep(b, atSize(presetM(), 64)) }
func BenchmarkTrainerStep_M256px(b *testing.B)                { benchStep(b, atSize(presetM(), 256)) }

// BenchmarkTranslate_M_128px: one 128 px frame through M's generator
// (ngf 32, 6 blocks), as the webcam translates it.
func BenchmarkTranslate_M_128px(b *testing.B) {
	g := NewGenerator(32, 6)
	x, _ := randomPair(1, 128)
	TranslateTensor(g, x)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		TranslateTensor(g, x)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkTranslator_M_128px: the same frames on a Translator, as the
// worker runs them (no allocation per frame).
func BenchmarkTranslator_M_128px(b *testing.B) {
	g := NewGenerator(32, 6)
	x, _ := randomPair(1, 128)
	var tr Translator
	tr.Translate(g, x)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Translate(g, x)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
