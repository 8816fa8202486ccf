/* gatespec_kernels.h: every numerical function of the C client, for one real type.
 *
 * Included by gatespec_client.c once per type, with T the type (double or float) and S the suffix of its
 * names (d or f) defined before: F(sigmoid_) names sigmoid_d or sigmoid_f.  A header rather than one macro,
 * so that a compiler's message and a debugger point at a line of this file.  Integer constants (0, 1)
 * convert to T, so no expression is ever evaluated in a wider type than T.  No include guard: it is meant
 * to be included twice. */

#if !defined(T) || !defined(S)
#error "define T (double or float) and S (d or f) before including gatespec_kernels.h"
#endif

#define GATESPEC_CAT2(a, b) a##b
#define GATESPEC_CAT(a, b) GATESPEC_CAT2(a, b)
#define F(name) GATESPEC_CAT(name, S)

/* ---- activations (reference/activations.py) */

static T F(sigmoid_)(T z)
{
    T e = EXP(-FABS(z));
    return z >= 0 ? 1 / (1 + e) : e / (1 + e);
}

static T F(softplus_)(T z) { return (z > 0 ? z : 0) + LOG1P(EXP(-FABS(z))); }

/* Heaviside with g(0) = 0 (NaN stays NaN, as np.heaviside). */
static T F(heaviside_)(T z) { return z > 0 ? 1 : z <= 0 ? 0 : z; }

static T F(dot_)(const T *a, const T *b, size_t n)
{
    T s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* The request's float64 numbers rounded to T. */
static T *F(to_)(const double *x, size_t n)
{
    T *a = arena_array(n, sizeof(T));
    for (size_t i = 0; i < n; i++)
        a[i] = (T)x[i];
    return a;
}

/* ---- writing results */

static void F(out_vector_)(const T *a, size_t n)
{
    out_char('[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            out_char(',');
        F(out_num_)(a[i]);
    }
    out_char(']');
}

/* A row-major array of shape dims[0..ndim) as nested lists; returns the end of what it wrote. */
static const T *F(out_tensor_)(const T *a, const size_t *dims, int ndim)
{
    if (ndim == 1) {
        F(out_vector_)(a, dims[0]);
        return a + dims[0];
    }
    out_char('[');
    for (size_t i = 0; i < dims[0]; i++) {
        if (i)
            out_char(',');
        a = F(out_tensor_)(a, dims + 1, ndim - 1);
    }
    out_char(']');
    return a;
}

/* [W₁, b₁, …] in the canonical layout, each with a leading axis of length lead (0: none). */
static void F(out_params_)(T *const *p, const size_t *sizes, size_t L, size_t lead)
{
    out_char('[');
    for (size_t k = 0; k < 2 * L; k++) {
        size_t dims[3];
        int ndim = lead ? 1 : 0;
        dims[0] = lead;
        ndim += param_shape(sizes, k, dims + ndim);
        if (k)
            out_char(',');
        F(out_tensor_)(p[k], dims, ndim);
    }
    out_char(']');
}

/* ---- threshold unit, perceptron, logistic regression (reference/perceptron.py, logistic.py) */

/* Σ softplus(z) − y·z and ∇ = Xbᵀ(σ(z) − y) at z = Xb·w; work holds N values. */
static T F(logistic_loss_grad_)(const T *Xb, const T *y, const T *w, size_t N, size_t d, T *grad,
                                T *work)
{
    T loss = 0;
    for (size_t i = 0; i < N; i++)
        work[i] = F(dot_)(Xb + i * d, w, d);
    for (size_t i = 0; i < N; i++)
        loss += F(softplus_)(work[i]) - y[i] * work[i];
    for (size_t i = 0; i < N; i++)
        work[i] = F(sigmoid_)(work[i]) - y[i];
    for (size_t k = 0; k < d; k++) {
        T s = 0;
        for (size_t i = 0; i < N; i++)
            s += Xb[i * d + k] * work[i];
        grad[k] = s;
    }
    return loss;
}

static void F(run_tlu_predict_)(const LinearTask *t)
{
    const T *Xb = F(to_)(t->Xb, t->N * t->d), *w = F(to_)(t->w, t->d);
    T *y = arena_array(t->N, sizeof(T));
    for (size_t i = 0; i < t->N; i++)
        y[i] = F(heaviside_)(F(dot_)(Xb + i * t->d, w, t->d));
    out_str("{\"y\":");
    F(out_vector_)(y, t->N);
    out_char('}');
}

/* w + η (y − g(Xb·w))ᵀ Xb */
static void F(run_perceptron_step_)(const LinearTask *t)
{
    const T *Xb = F(to_)(t->Xb, t->N * t->d), *y = F(to_)(t->y, t->N), *w = F(to_)(t->w, t->d);
    const T eta = (T)t->eta;
    T *err = arena_array(t->N, sizeof(T)), *next = arena_array(t->d, sizeof(T));
    for (size_t i = 0; i < t->N; i++)
        err[i] = y[i] - F(heaviside_)(F(dot_)(Xb + i * t->d, w, t->d));
    for (size_t k = 0; k < t->d; k++) {
        T s = 0;
        for (size_t i = 0; i < t->N; i++)
            s += err[i] * Xb[i * t->d + k];
        next[k] = w[k] + eta * s;
    }
    out_str("{\"w\":");
    F(out_vector_)(next, t->d);
    out_char('}');
}

/* w ← w + η (y_i − g(w·x_i)) x_i for i in order; every w kept. */
static void F(run_perceptron_online_)(const LinearTask *t)
{
    const size_t d = t->d;
    const T *Xb = F(to_)(t->Xb, t->N * d), *y = F(to_)(t->y, t->N);
    const T eta = (T)t->eta;
    T *W = arena_array(mul_size(t->K + 1, d), sizeof(T));
    for (size_t k = 0; k < d; k++)
        W[k] = (T)t->w[k];
    for (size_t s = 0; s < t->K; s++) {
        const size_t i = t->order[s];
        const T *x = Xb + i * d, *w = W + s * d;
        T *next = W + (s + 1) * d;
        T err = y[i] - F(heaviside_)(F(dot_)(x, w, d));
        for (size_t k = 0; k < d; k++)
            next[k] = w[k] + eta * err * x[k];
    }
    size_t dims[2] = {t->K + 1, d};
    out_str("{\"w\":");
    F(out_tensor_)(W, dims, 2);
    out_char('}');
}

static void F(run_logistic_loss_and_grad_)(const LinearTask *t)
{
    const T *Xb = F(to_)(t->Xb, t->N * t->d), *y = F(to_)(t->y, t->N), *w = F(to_)(t->w, t->d);
    T *grad = arena_array(t->d, sizeof(T)), *work = arena_array(t->N, sizeof(T));
    T loss = F(logistic_loss_grad_)(Xb, y, w, t->N, t->d, grad, work);
    out_str("{\"loss\":");
    F(out_num_)(loss);
    out_str(",\"grad\":");
    F(out_vector_)(grad, t->d);
    out_char('}');
}

/* l = −log σ(w·x) = softplus(−w·x), ∇ = −σ(−w·x) x (logistic.single_example_loss_and_grad). */
static void F(run_single_example_)(const LinearTask *t)
{
    const T *x = F(to_)(t->Xb, t->d), *w = F(to_)(t->w, t->d);
    T *grad = arena_array(t->d, sizeof(T));
    T z = F(dot_)(x, w, t->d);
    T loss = F(softplus_)(-z), s = F(sigmoid_)(-z);
    for (size_t k = 0; k < t->d; k++)
        grad[k] = -s * x[k];
    out_str("{\"loss\":");
    F(out_num_)(loss);
    out_str(",\"grad\":");
    F(out_vector_)(grad, t->d);
    out_char('}');
}

/* w ← w − η ∇l(w), steps times (logistic.gradient_descent). */
static void F(run_logistic_train_)(const LinearTask *t)
{
    const size_t d = t->d;
    const T *Xb = F(to_)(t->Xb, t->N * d), *y = F(to_)(t->y, t->N);
    const T eta = (T)t->eta;
    T *W = arena_array(mul_size(t->steps + 1, d), sizeof(T)), *losses = arena_array(t->steps, sizeof(T));
    T *grad = arena_array(d, sizeof(T)), *work = arena_array(t->N, sizeof(T));
    for (size_t k = 0; k < d; k++)
        W[k] = (T)t->w[k];
    for (size_t s = 0; s < t->steps; s++) {
        losses[s] = F(logistic_loss_grad_)(Xb, y, W + s * d, t->N, d, grad, work);
        for (size_t k = 0; k < d; k++)
            W[(s + 1) * d + k] = W[s * d + k] - eta * grad[k];
    }
    size_t dims[2] = {t->steps + 1, d};
    out_str("{\"weights\":");
    F(out_tensor_)(W, dims, 2);
    out_str(",\"losses\":");
    F(out_vector_)(losses, t->steps);
    out_char('}');
}

/* ---- the MLP (reference/mlp.py) */

typedef struct {
    size_t L;
    const size_t *sizes;
    T **p; /* W₁, b₁, …, W_L, b_L */
} F(Net_);

static F(Net_) F(net_zeros_)(size_t L, const size_t *sizes)
{
    F(Net_) net = {L, sizes, arena_array(2 * L, sizeof(T *))};
    for (size_t k = 0; k < 2 * L; k++)
        net.p[k] = arena_array(param_size(sizes, k), sizeof(T));
    return net;
}

/* Net b of the task, rounded to T. */
static F(Net_) F(net_of_task_)(const MlpTask *t, size_t b)
{
    F(Net_) net = {t->L, t->sizes, arena_array(2 * t->L, sizeof(T *))};
    for (size_t k = 0; k < 2 * t->L; k++) {
        size_t n = param_size(t->sizes, k);
        net.p[k] = F(to_)(t->p[k] + b * n, n);
    }
    return net;
}

/* Activations of one forward pass (h₀ = X, hidden layers h₁…h_{L−1}, logits z) and the two
 * δ buffers of the backward pass. */
typedef struct {
    const T *X;
    T **h;
    T *z, *delta, *next;
} F(Work_);

static F(Work_) F(work_new_)(size_t L, const size_t *sizes, const T *X, size_t N)
{
    F(Work_) w = {X, arena_array(L, sizeof(T *)), arena_array(N, sizeof(T)), NULL, NULL};
    size_t widest = 1;
    for (size_t l = 1; l < L; l++) {
        w.h[l] = arena_array(mul_size(N, sizes[l]), sizeof(T));
        widest = sizes[l] > widest ? sizes[l] : widest;
    }
    w.delta = arena_array(mul_size(N, widest), sizeof(T));
    w.next = arena_array(mul_size(N, widest), sizeof(T));
    return w;
}

static const T *F(layer_input_)(const F(Work_) *w, size_t l) { return l ? w->h[l] : w->X; }

/* h_l = σ(h_{l−1} W_l + b_l), z = h_{L−1} W_L + b_L. */
static void F(forward_)(const F(Net_) *net, size_t N, F(Work_) *w)
{
    for (size_t l = 0; l < net->L; l++) {
        const size_t in = net->sizes[l], out = net->sizes[l + 1];
        const bool last = l + 1 == net->L;
        const T *h = F(layer_input_)(w, l), *W = net->p[2 * l], *b = net->p[2 * l + 1];
        T *a = last ? w->z : w->h[l + 1];
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < out; j++) {
                T s = 0;
                for (size_t k = 0; k < in; k++)
                    s += h[i * in + k] * W[k * out + j];
                s = s + b[j];
                a[i * out + j] = last ? s : F(sigmoid_)(s);
            }
    }
}

/* The loss Σ softplus(z) − y·z, and its gradients into g, by the backprop of reference/mlp.py. */
static T F(loss_and_grads_)(const F(Net_) *net, const T *y, size_t N, F(Net_) *g, F(Work_) *w)
{
    F(forward_)(net, N, w);
    const T *z = w->z;
    T loss = 0;
    for (size_t i = 0; i < N; i++)
        loss += F(softplus_)(z[i]) - y[i] * z[i];
    T *delta = w->delta, *next = w->next;
    for (size_t i = 0; i < N; i++)
        delta[i] = F(sigmoid_)(z[i]) - y[i];
    for (size_t l = net->L; l-- > 0;) {
        const size_t in = net->sizes[l], out = net->sizes[l + 1];
        const T *h = F(layer_input_)(w, l);
        T *gW = g->p[2 * l], *gb = g->p[2 * l + 1];
        for (size_t j = 0; j < out; j++) {
            T s = 0;
            for (size_t i = 0; i < N; i++)
                s += delta[i * out + j];
            gb[j] = s;
        }
        for (size_t k = 0; k < in; k++)
            for (size_t j = 0; j < out; j++) {
                T s = 0;
                for (size_t i = 0; i < N; i++)
                    s += h[i * in + k] * delta[i * out + j];
                gW[k * out + j] = s;
            }
        if (l == 0)
            break;
        const T *W = net->p[2 * l];
        for (size_t i = 0; i < N; i++)
            for (size_t k = 0; k < in; k++) {
                T s = 0;
                for (size_t j = 0; j < out; j++)
                    s += delta[i * out + j] * W[k * out + j];
                const T hk = h[i * in + k];
                next[i * in + k] = s * hk * (1 - hk);
            }
        T *swap = delta;
        delta = next;
        next = swap;
    }
    return loss;
}

static void F(record_)(const F(Net_) *net, T **trajectory, size_t t)
{
    for (size_t k = 0; k < 2 * net->L; k++) {
        size_t n = param_size(net->sizes, k);
        if (n)
            memcpy(trajectory[k] + t * n, net->p[k], n * sizeof(T));
    }
}

/* steps full-batch updates of net in place; losses[t · loss_stride] is the loss step t starts at;
 * trajectory (NULL: not kept) gets the parameters at t = 0 … steps. */
static void F(train_)(F(Net_) *net, const T *y, size_t N, F(Work_) *w, const Optimizer *opt,
                      size_t steps, T *losses, size_t loss_stride, T **trajectory)
{
    F(Net_) g = F(net_zeros_)(net->L, net->sizes);
    F(Net_) m = F(net_zeros_)(net->L, net->sizes), v = F(net_zeros_)(net->L, net->sizes);
    if (trajectory)
        F(record_)(net, trajectory, 0);
    for (size_t t = 1; t <= steps; t++) {
        losses[(t - 1) * loss_stride] = F(loss_and_grads_)(net, y, N, &g, w);
        if (opt->kind == OPT_SGD) {
            const T lr = (T)opt->lr;
            for (size_t k = 0; k < 2 * net->L; k++)
                for (size_t i = 0, n = param_size(net->sizes, k); i < n; i++)
                    net->p[k][i] = net->p[k][i] - lr * g.p[k][i];
        } else {
            const T beta1 = (T)opt->beta1, one_minus_beta1 = (T)(1 - opt->beta1);
            const T beta2 = (T)opt->beta2, one_minus_beta2 = (T)(1 - opt->beta2);
            const T step_size = (T)(opt->lr / (1 - pow(opt->beta1, (double)t)));
            const T bc2_sqrt = (T)sqrt(1 - pow(opt->beta2, (double)t));
            const T eps = (T)opt->eps;
            for (size_t k = 0; k < 2 * net->L; k++)
                for (size_t i = 0, n = param_size(net->sizes, k); i < n; i++) {
                    const T gi = g.p[k][i];
                    const T mi = beta1 * m.p[k][i] + one_minus_beta1 * gi;
                    const T vi = beta2 * v.p[k][i] + one_minus_beta2 * gi * gi;
                    m.p[k][i] = mi;
                    v.p[k][i] = vi;
                    net->p[k][i] = net->p[k][i] - step_size * mi / (SQRT(vi) / bc2_sqrt + eps);
                }
        }
        if (trajectory)
            F(record_)(net, trajectory, t);
    }
}

static void F(run_mlp_forward_)(const MlpTask *t)
{
    F(Net_) net = F(net_of_task_)(t, 0);
    F(Work_) w = F(work_new_)(t->L, t->sizes, F(to_)(t->X, t->N * t->sizes[0]), t->N);
    F(forward_)(&net, t->N, &w);
    T *p = arena_array(t->N, sizeof(T));
    for (size_t i = 0; i < t->N; i++)
        p[i] = F(sigmoid_)(w.z[i]);
    out_str("{\"z\":");
    F(out_vector_)(w.z, t->N);
    out_str(",\"p\":");
    F(out_vector_)(p, t->N);
    out_char('}');
}

static void F(run_mlp_loss_and_grads_)(const MlpTask *t)
{
    F(Net_) net = F(net_of_task_)(t, 0), g = F(net_zeros_)(t->L, t->sizes);
    F(Work_) w = F(work_new_)(t->L, t->sizes, F(to_)(t->X, t->N * t->sizes[0]), t->N);
    T loss = F(loss_and_grads_)(&net, F(to_)(t->y, t->N), t->N, &g, &w);
    out_str("{\"loss\":");
    F(out_num_)(loss);
    out_str(",\"grads\":");
    F(out_params_)(g.p, t->sizes, t->L, 0);
    out_char('}');
}

static void F(run_mlp_train_)(const MlpTask *t)
{
    F(Net_) net = F(net_of_task_)(t, 0);
    F(Work_) w = F(work_new_)(t->L, t->sizes, F(to_)(t->X, t->N * t->sizes[0]), t->N);
    T **trajectory = arena_array(2 * t->L, sizeof(T *));
    for (size_t k = 0; k < 2 * t->L; k++)
        trajectory[k] = arena_array(mul_size(t->steps + 1, param_size(t->sizes, k)), sizeof(T));
    T *losses = arena_array(t->steps, sizeof(T));
    F(train_)(&net, F(to_)(t->y, t->N), t->N, &w, &t->opt, t->steps, losses, 1, trajectory);
    out_str("{\"params\":");
    F(out_params_)(trajectory, t->sizes, t->L, t->steps + 1);
    out_str(",\"losses\":");
    F(out_vector_)(losses, t->steps);
    out_char('}');
}

/* Each net trained alone, exactly as run_mlp_train would; only the final parameters kept. */
static void F(run_mlp_train_batched_)(const MlpTask *t)
{
    const T *X = F(to_)(t->X, t->N * t->sizes[0]), *y = F(to_)(t->y, t->N);
    F(Work_) w = F(work_new_)(t->L, t->sizes, X, t->N);
    T **final = arena_array(2 * t->L, sizeof(T *));
    for (size_t k = 0; k < 2 * t->L; k++)
        final[k] = arena_array(mul_size(t->B, param_size(t->sizes, k)), sizeof(T));
    T *losses = arena_array(mul_size(t->steps, t->B), sizeof(T));
    for (size_t b = 0; b < t->B; b++) {
        F(Net_) net = F(net_of_task_)(t, b);
        F(train_)(&net, y, t->N, &w, &t->opt, t->steps, losses + b, t->B, NULL);
        F(record_)(&net, final, b);
    }
    size_t dims[2] = {t->steps, t->B};
    out_str("{\"params\":");
    F(out_params_)(final, t->sizes, t->L, t->B);
    out_str(",\"losses\":");
    if (t->steps)
        F(out_tensor_)(losses, dims, 2);
    else
        out_str("[]");
    out_char('}');
}

#undef F
#undef GATESPEC_CAT
#undef GATESPEC_CAT2
