//! Autograd through our networks against central finite differences, in float64, on tiny
//! networks of each family (the hand-written Transformer most of all).

#![allow(clippy::unwrap_used)]

use qts_config::{Architecture, ModelConfig};
use qts_models::net::{Net, NetSpec};
use qts_models::weights::variables;
use tch::{Device, Kind, Reduction, Tensor, nn};

fn check(cfg: &ModelConfig, n_in: usize) {
    // One thread: libtorch's parallel reductions would sum in an order that depends on the
    // machine's load, and the finite differences divide that noise by 2·eps.
    tch::set_num_threads(1);
    tch::manual_seed(3);
    let spec = NetSpec::new(cfg, n_in).unwrap();
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = Net::new(&vs.root(), &spec);
    vs.double();
    let x = Tensor::randn(
        [3, spec.lookback as i64, n_in as i64],
        (Kind::Double, Device::Cpu),
    );
    let y = Tensor::randn([3], (Kind::Double, Device::Cpu));
    let loss = |net: &Net| net.forward(&x, false).mse_loss(&y, Reduction::Mean);
    let l = loss(&net);
    l.backward();
    let eps = 1e-6;
    let mut checked = 0;
    for (name, var) in variables(&vs) {
        let grad = var.grad().view([-1]);
        let n = grad.size()[0];
        // A few entries of every parameter, spread over it.
        for k in [0, n / 2, n - 1] {
            let mut flat = var.view([-1]);
            let orig = f64::try_from(flat.get(k)).unwrap();
            let at = |v: f64, flat: &mut Tensor| {
                tch::no_grad(|| {
                    let _ = flat.get(k).fill_(v);
                });
                f64::try_from(tch::no_grad(|| loss(&net))).unwrap()
            };
            let up = at(orig + eps, &mut flat);
            let down = at(orig - eps, &mut flat);
            at(orig, &mut flat);
            let numeric = (up - down) / (2.0 * eps);
            let analytic = f64::try_from(grad.get(k)).unwrap();
            // Relative agreement to 1e-6, or, for tiny gradients, to 10× what rounding the
            // loss can do to a central difference: ε·|L| / eps.
            let rounding = f64::EPSILON * up.abs().max(down.abs()) / eps;
            let tol = 1e-6 * analytic.abs().max(numeric.abs()) + 10.0 * rounding;
            assert!(
                (numeric - analytic).abs() <= tol,
                "{:?} {name}[{k}]: autograd {analytic:e}, finite differences {numeric:e}",
                cfg.architecture
            );
            checked += 1;
        }
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn lstm_with_attention_and_norm() {
    let mut cfg = ModelConfig::default();
    cfg.lstm.hidden_size = 4;
    cfg.lstm.num_layers = 2;
    cfg.lstm.bidirectional = true;
    cfg.lstm.attention = true;
    cfg.lstm.layer_norm = true;
    cfg.data.lookback = 5;
    check(&cfg, 3);
}

#[test]
fn transformer() {
    let mut cfg = ModelConfig {
        architecture: Architecture::Transformer,
        ..ModelConfig::default()
    };
    cfg.transformer.d_model = 8;
    cfg.transformer.num_heads = 2;
    cfg.transformer.num_layers = 2;
    cfg.transformer.feedforward_size = 6;
    cfg.data.lookback = 4;
    check(&cfg, 3);
}

#[test]
fn mlp() {
    let mut cfg = ModelConfig {
        architecture: Architecture::Mlp,
        ..ModelConfig::default()
    };
    cfg.mlp.hidden_sizes = vec![5, 4];
    cfg.data.lookback = 3;
    check(&cfg, 2);
}
