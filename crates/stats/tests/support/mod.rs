//! Seeded normal draws for the property tests (xorshift + Box–Muller): the same numbers on
//! every platform, with no dependency the tests would otherwise need.

/// A stream of standard normal draws.
pub struct Noise(u64);

impl Noise {
    /// A stream from `seed` (0 is not a xorshift state; it is taken as 1).
    pub fn new(seed: u64) -> Noise {
        Noise(seed.max(1))
    }

    fn uniform(&mut self) -> f64 {
        let s = &mut self.0;
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        ((*s >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// The next standard normal draw.
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}
