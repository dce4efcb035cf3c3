/* test_op_shape.c — every shape function of the op table: output shapes on
 * normal and odd cases (stride 2 on odd sizes, dilation, groups, asymmetric
 * padding, ceil_mode; sizes checked against PyTorch 1.13), and each refusal
 * with the substring its message must contain. */
#include "engine/op_shape.h"

#include <check.h>
#include <string.h>

struct sc {
    enum cd_op op;
    struct cd_attrs a;
    int n_in;
    struct cd_shape in[4], w[4], out;
    struct cd_err err;
};

static struct cd_shape shape_of(const int64_t *d, int n)
{
    return cd_shape_make(n, d);
}
#define SH(...)                                                               \
    shape_of((int64_t[]){ __VA_ARGS__ },                                      \
             (int)(sizeof((int64_t[]){ __VA_ARGS__ }) / sizeof(int64_t)))

static struct sc S;

static void init(enum cd_op op)
{
    memset(&S, 0, sizeof S);
    S.op = op;
    cd_attrs_default(&S.a, op);
}

static void in(struct cd_shape s)
{
    S.in[S.n_in++] = s;
}

static int run(void)
{
    memset(&S.err, 0, sizeof S.err);
    return cd_ops[S.op].shape(&S.a, S.n_in, S.in, S.w, &S.out, &S.err);
}

static void ok_(struct cd_shape want, int line)
{
    char b1[96], b2[96];
    int rc = run();
    ck_assert_msg(rc == CD_OK, "line %d: %s", line, S.err.msg);
    ck_assert_msg(cd_shape_eq(&S.out, &want), "line %d: got %s, want %s",
                  line, cd_shape_str(&S.out, b1, sizeof b1),
                  cd_shape_str(&want, b2, sizeof b2));
}

static void bad_(const char *sub, int line)
{
    int rc = run();
    ck_assert_msg(rc == CD_EINVAL, "line %d: rc %d, want refusal '%s'", line,
                  rc, sub);
    ck_assert_msg(strstr(S.err.msg, sub), "line %d: message '%s' lacks '%s'",
                  line, S.err.msg, sub);
}
#define OK(want) ok_(want, __LINE__)
#define BAD(sub) bad_(sub, __LINE__)

static void conv2(int64_t cin, int64_t h, int64_t w_, int64_t cout, int64_t k)
{
    init(CD_OP_CONV);
    in(SH(1, cin, h, w_));
    S.w[0] = SH(cout, cin, k, k);
}

START_TEST(t_conv)
{
    conv2(3, 224, 224, 64, 7); /* resnet stem */
    S.a.stride[0] = S.a.stride[1] = 2;
    S.a.pad_begin[0] = S.a.pad_begin[1] = S.a.pad_end[0] = S.a.pad_end[1] = 3;
    OK(SH(1, 64, 112, 112));
    conv2(3, 7, 7, 4, 3); /* stride 2 on odd: floor(6/2)+1 */
    S.a.stride[0] = S.a.stride[1] = 2;
    S.a.pad_begin[0] = S.a.pad_begin[1] = S.a.pad_end[0] = S.a.pad_end[1] = 1;
    S.w[1] = SH(4);
    OK(SH(1, 4, 4, 4));
    conv2(1, 10, 10, 1, 3); /* dilation 2 */
    S.a.dilation[0] = S.a.dilation[1] = 2;
    OK(SH(1, 1, 6, 6));
    init(CD_OP_CONV); /* groups 4 */
    in(SH(1, 8, 5, 5));
    S.w[0] = SH(4, 2, 3, 3);
    S.a.groups = 4;
    OK(SH(1, 4, 3, 3));
    init(CD_OP_CONV); /* asymmetric padding, band kernel */
    in(SH(1, 1, 5, 6));
    S.w[0] = SH(2, 1, 3, 1);
    S.a.nsp = 2;
    S.a.pad_end[0] = 2;
    S.a.pad_begin[1] = 1;
    OK(SH(1, 2, 5, 7));
    init(CD_OP_CONV); /* 1-D and 3-D */
    in(SH(1, 3, 11));
    S.w[0] = SH(4, 3, 5);
    S.a.stride[0] = 3;
    S.a.dilation[0] = 2;
    S.a.pad_begin[0] = S.a.pad_end[0] = 2;
    OK(SH(1, 4, 3));
    init(CD_OP_CONV);
    in(SH(1, 2, 4, 5, 5));
    S.w[0] = SH(3, 2, 2, 3, 3);
    OK(SH(1, 3, 3, 3, 3));
    conv2(2, 6, 6, 4, 3); /* residual */
    S.a.residual = 1;
    S.a.act = CD_ACT_RELU;
    in(SH(1, 4, 4, 4));
    OK(SH(1, 4, 4, 4));
}
END_TEST

START_TEST(t_conv_bad)
{
    init(CD_OP_CONV);
    in(SH(1, 3));
    S.w[0] = SH(1, 3);
    BAD("rank 2");
    init(CD_OP_CONV);
    in(SH(2, 3, 5, 5));
    S.w[0] = SH(1, 3, 3, 3);
    BAD("dim[0] == 1");
    conv2(3, 5, 5, 4, 3);
    S.a.nsp = 1;
    BAD("spatial entries");
    conv2(3, 5, 5, 4, 3);
    S.w[0] = SH(4, 3, 3);
    BAD("rank differs");
    conv2(3, 5, 5, 4, 3);
    S.w[0].dim[1] = 2;
    BAD("input channels 3");
    init(CD_OP_CONV);
    in(SH(1, 4, 5, 5));
    S.w[0] = SH(3, 2, 3, 3);
    S.a.groups = 2;
    BAD("not divisible by groups");
    conv2(3, 5, 5, 4, 3);
    S.a.groups = 0;
    BAD("groups");
    conv2(3, 5, 5, 4, 3);
    S.w[1] = SH(5);
    BAD("weight 'bias' has shape [5]");
    conv2(3, 2, 5, 4, 3);
    BAD("larger than padded input");
    conv2(3, 5, 5, 4, 3);
    S.a.stride[1] = 0;
    BAD("stride[1]");
    conv2(3, 5, 5, 4, 3);
    S.a.dilation[0] = 0;
    BAD("dilation[0]");
    conv2(3, 5, 5, 4, 3);
    S.a.pad_begin[0] = -1;
    BAD("padding[0]");
    conv2(3, 5, 5, 4, 3);
    S.a.residual = 1;
    BAD("residual set but 1 inputs");
    conv2(3, 5, 5, 4, 3);
    in(SH(1, 4, 3, 3));
    BAD("without residual");
    conv2(3, 5, 5, 4, 3);
    S.a.residual = 1;
    in(SH(1, 4, 3, 4));
    BAD("residual input [1, 4, 3, 4] does not match output [1, 4, 3, 3]");
    conv2(3, 5, 5, 4, 3);
    S.a.act = CD_ACT_COUNT;
    BAD("activation");
}
END_TEST

START_TEST(t_linear_matmul_norm)
{
    init(CD_OP_LINEAR);
    in(SH(1, 3, 5));
    S.w[0] = SH(4, 5);
    S.w[1] = SH(4);
    OK(SH(1, 3, 4));
    S.w[0] = SH(4, 6);
    BAD("last dim");
    S.w[0] = SH(4, 5, 1);
    BAD("must be (out, in)");
    S.w[0] = SH(4, 5);
    S.w[1] = SH(5);
    BAD("'bias'");
    init(CD_OP_LINEAR);
    in(SH(1));
    S.w[0] = SH(4, 1);
    BAD("rank >= 2");

    init(CD_OP_MATMUL);
    in(SH(1, 2, 3, 4));
    in(SH(1, 2, 4, 5));
    OK(SH(1, 2, 3, 5));
    S.in[1] = SH(1, 2, 5, 4);
    BAD("inner dims");
    S.in[1] = SH(1, 3, 4, 5);
    BAD("leading dims");
    init(CD_OP_MATMUL);
    in(SH(1, 4));
    in(SH(1, 4));
    BAD("rank");

    init(CD_OP_BATCHNORM);
    in(SH(1, 3, 4, 5));
    for (int i = 0; i < 4; i++)
        S.w[i] = SH(3);
    OK(SH(1, 3, 4, 5));
    S.w[3] = SH(4);
    BAD("running_var");
    S.w[3] = SH(3);
    S.a.eps = -1;
    BAD("eps");

    init(CD_OP_LAYERNORM);
    in(SH(1, 3, 4, 5));
    S.w[0] = SH(3);
    OK(SH(1, 3, 4, 5));
    S.a.axis = -1;
    S.w[0] = SH(5);
    OK(SH(1, 3, 4, 5));
    S.a.axis = 3;
    OK(SH(1, 3, 4, 5));
    S.w[1] = SH(3);
    BAD("'bias'");
    S.a.axis = 2;
    BAD("axis 2");
}
END_TEST

START_TEST(t_binary)
{
    init(CD_OP_ADD);
    in(SH(1, 3, 4, 5));
    S.w[0] = SH(3, 1, 1);
    OK(SH(1, 3, 4, 5));
    init(CD_OP_MUL); /* the weight may expand a size-1 dim */
    in(SH(1, 1, 4, 5));
    S.w[0] = SH(3, 1, 1);
    OK(SH(1, 3, 4, 5));
    init(CD_OP_SUB);
    in(SH(1, 3, 1, 5));
    in(SH(1, 1, 4, 1));
    OK(SH(1, 3, 4, 5));
    init(CD_OP_DIV);
    in(SH(1, 3));
    S.a.has_scalar = 1;
    OK(SH(1, 3));
    S.w[0] = SH(3);
    BAD("exactly one");
    init(CD_OP_DIV);
    in(SH(1, 3));
    BAD("exactly one");
    init(CD_OP_ADD);
    in(SH(1, 3, 4, 5));
    S.w[0] = SH(4, 1, 1);
    BAD("do not broadcast");
    S.w[0] = SH(2, 3, 4, 5);
    BAD("batch");
    S.w[0] = SH(1, 1, 3, 4, 5);
    BAD("more dims");
    init(CD_OP_ADD);
    in(SH(1, 3, 4));
    in(SH(1, 4));
    BAD("rank differs");
}
END_TEST

START_TEST(t_tensor)
{
    init(CD_OP_RELU);
    in(SH(1, 3, 4));
    OK(SH(1, 3, 4));
    in(SH(1, 3, 4));
    BAD("2 inputs");

    init(CD_OP_CONCAT);
    in(SH(1, 3, 2, 2));
    in(SH(1, 3, 1, 2));
    S.a.axis = -2;
    OK(SH(1, 3, 3, 2));
    S.a.axis = 2;
    OK(SH(1, 3, 3, 2));
    S.a.axis = 1;
    BAD("outside axis 1");
    S.a.axis = 0;
    BAD("axis 0");
    S.a.axis = -4;
    BAD("axis -4");
    S.a.axis = 2;
    S.in[1] = SH(1, 3, 2);
    BAD("rank differs");

    init(CD_OP_SLICE); /* x[:, :, -7::2] of length 9 */
    in(SH(1, 3, 9, 2));
    S.a.axis = 2;
    S.a.start = -7;
    S.a.step = 2;
    OK(SH(1, 3, 4, 2));
    S.a.start = 1;
    S.a.end = -1; /* 1..7 */
    S.a.step = 1;
    OK(SH(1, 3, 7, 2));
    S.a.start = -100;
    S.a.end = 100;
    S.a.step = 4;
    OK(SH(1, 3, 3, 2));
    S.a.start = 9;
    S.a.end = INT64_MAX;
    BAD("is empty");
    S.a.start = 5;
    S.a.end = 3;
    BAD("is empty");
    S.a.start = 0;
    S.a.step = 0;
    BAD("step 0");
    S.a.step = 1;
    S.a.axis = 0;
    BAD("axis 0");

    init(CD_OP_FLATTEN);
    in(SH(1, 2, 3, 4));
    OK(SH(1, 24));
    S.a.start_dim = 2;
    OK(SH(1, 2, 12));
    S.a.start_dim = -3;
    S.a.end_dim = 2;
    OK(SH(1, 6, 4));
    S.a.start_dim = 0;
    BAD("start_dim 0");
    S.a.start_dim = 3;
    S.a.end_dim = 2;
    BAD("end_dim 2");

    init(CD_OP_RESHAPE);
    in(SH(1, 2, 3, 4));
    S.a.n_shape = 2;
    S.a.shape[0] = -1;
    S.a.shape[1] = 4;
    OK(SH(1, 6, 4));
    S.a.shape[0] = 6;
    S.a.shape[1] = -1;
    OK(SH(1, 6, 4));
    S.a.shape[0] = -1;
    BAD("more than one -1");
    S.a.shape[0] = 5;
    BAD("cannot hold");
    S.a.shape[1] = 5;
    BAD("different element count");
    S.a.shape[1] = 0;
    BAD("shape[1] = 0");
    S.a.n_shape = 1;
    S.a.shape[0] = INT64_MAX;
    BAD("shape[0]");
    init(CD_OP_RESHAPE);
    in(SH(1, 1, 1));
    OK(SH(1));

    init(CD_OP_PERMUTE);
    in(SH(1, 3, 4, 5));
    S.a.n_perm = 4;
    memcpy(S.a.perm, (int[]){ 0, 3, 1, 2 }, sizeof(int[4]));
    OK(SH(1, 5, 3, 4));
    S.a.perm[0] = 1;
    S.a.perm[1] = 0;
    BAD("batch dim must stay first");
    S.a.perm[0] = 0;
    S.a.perm[1] = 2;
    BAD("not a permutation");
    S.a.n_perm = 3;
    BAD("3 entries");

    init(CD_OP_SOFTMAX);
    in(SH(1, 3, 4));
    S.a.axis = -1;
    OK(SH(1, 3, 4));
    S.a.axis = 0;
    BAD("axis 0");
    S.a.axis = 3;
    BAD("axis 3");

    init(CD_OP_PAD);
    in(SH(1, 2, 3, 4));
    S.a.nsp = 2;
    S.a.pad_begin[0] = 1;
    S.a.pad_end[0] = 3;
    S.a.pad_begin[1] = 2;
    OK(SH(1, 2, 7, 6));
    S.a.nsp = 3; /* now the entries cover C, H, W */
    OK(SH(1, 6, 5, 4));
    S.a.pad_begin[2] = -1;
    BAD("padding[2]");
    S.a.nsp = 0;
    BAD("padding covers 0 dims");
    init(CD_OP_PAD);
    in(SH(1, 4));
    S.a.nsp = 2;
    BAD("padding covers 2 dims");
}
END_TEST

static void pool2(enum cd_op op, int64_t h, int64_t w_, int k, int s, int p,
                  int ceil_mode)
{
    init(op);
    in(SH(1, 2, h, w_));
    S.a.nsp = 2;
    for (int i = 0; i < 2; i++) {
        S.a.kernel[i] = k;
        S.a.stride[i] = s;
        S.a.pad_begin[i] = S.a.pad_end[i] = p;
    }
    S.a.ceil_mode = ceil_mode;
}

START_TEST(t_pool)
{
    pool2(CD_OP_MAXPOOL, 112, 112, 3, 2, 1, 0);
    OK(SH(1, 2, 56, 56));
    pool2(CD_OP_MAXPOOL, 8, 7, 3, 2, 1, 1);
    OK(SH(1, 2, 5, 4));
    pool2(CD_OP_AVGPOOL, 7, 9, 3, 2, 1, 1);
    OK(SH(1, 2, 4, 5));
    pool2(CD_OP_MAXPOOL, 10, 11, 3, 2, 1, 1);
    S.a.dilation[0] = S.a.dilation[1] = 2;
    OK(SH(1, 2, 5, 5));
    init(CD_OP_MAXPOOL); /* ceil_mode window starting in the right padding */
    in(SH(1, 1, 5));
    S.a.nsp = 1;
    S.a.kernel[0] = S.a.stride[0] = 2;
    S.a.pad_begin[0] = S.a.pad_end[0] = 1;
    S.a.ceil_mode = 1;
    OK(SH(1, 1, 3));
    pool2(CD_OP_AVGPOOL, 6, 7, 2, 3, 1, 1);
    S.a.kernel[1] = 3;
    S.a.stride[1] = 2;
    S.a.pad_begin[1] = S.a.pad_end[1] = 0;
    OK(SH(1, 2, 3, 3));
    init(CD_OP_MAXPOOL);
    in(SH(1, 1, 3, 5, 4));
    S.a.nsp = 3;
    memcpy(S.a.kernel, (int[]){ 2, 3, 2 }, sizeof(int[3]));
    memcpy(S.a.stride, (int[]){ 1, 2, 2 }, sizeof(int[3]));
    memcpy(S.a.pad_begin, (int[]){ 1, 1, 1 }, sizeof(int[3]));
    memcpy(S.a.pad_end, (int[]){ 1, 1, 1 }, sizeof(int[3]));
    OK(SH(1, 1, 4, 3, 3));

    pool2(CD_OP_MAXPOOL, 8, 8, 3, 2, 2, 0);
    BAD("half the kernel");
    pool2(CD_OP_MAXPOOL, 8, 8, 3, 2, 1, 0);
    S.a.nsp = 0;
    BAD("kernel is required");
    S.a.nsp = 1;
    BAD("kernel has 1 entries");
    S.a.nsp = 2;
    S.a.kernel[1] = 0;
    BAD("kernel[1]");
    pool2(CD_OP_MAXPOOL, 8, 8, 3, 0, 1, 0);
    BAD("stride[0]");
    pool2(CD_OP_AVGPOOL, 2, 8, 5, 1, 1, 0);
    BAD("larger than padded input");

    init(CD_OP_ADAPTIVE_AVGPOOL);
    in(SH(1, 2, 5, 7));
    S.a.size[0] = 3;
    S.a.size[1] = 4;
    OK(SH(1, 2, 3, 4));
    S.a.size[1] = 0;
    BAD("output_size must have 2");
    init(CD_OP_ADAPTIVE_AVGPOOL);
    in(SH(1, 2, 10));
    S.a.size[0] = 4;
    OK(SH(1, 2, 4));
    init(CD_OP_ADAPTIVE_AVGPOOL);
    in(SH(1, 2, 3, 3, 3));
    BAD("(N, C, L) or (N, C, H, W)");

    init(CD_OP_GLOBAL_AVGPOOL);
    in(SH(1, 3, 4, 5));
    OK(SH(1, 3, 1, 1));
    init(CD_OP_GLOBAL_AVGPOOL);
    in(SH(1, 3));
    BAD("spatial");
}
END_TEST

START_TEST(t_upsample)
{
    init(CD_OP_UPSAMPLE);
    in(SH(1, 2, 5, 7));
    S.a.size[0] = 9;
    S.a.size[1] = 3;
    OK(SH(1, 2, 9, 3));
    S.a.scale[0] = 2;
    BAD("exactly one of size or scale");
    S.a.size[0] = S.a.size[1] = 0;
    S.a.scale[1] = 0.5f;
    S.a.scale[0] = 1.5f;
    OK(SH(1, 2, 7, 3));
    S.a.mode = CD_UPSAMPLE_BILINEAR;
    OK(SH(1, 2, 7, 3));
    S.a.scale[1] = 0;
    BAD("scale has 1 entries");
    S.a.scale[1] = 0.1f;
    BAD("output size 0");
    S.a.scale[1] = -2;
    BAD("scale[1]");
    init(CD_OP_UPSAMPLE);
    in(SH(1, 2, 5));
    S.a.size[0] = 8;
    OK(SH(1, 2, 8));
    S.a.mode = CD_UPSAMPLE_BILINEAR;
    BAD("bilinear needs (N, C, H, W)");
    init(CD_OP_UPSAMPLE);
    in(SH(1, 2, 5, 5));
    BAD("exactly one");
}
END_TEST

static Suite *op_shape_suite(void)
{
    Suite *s = suite_create("op_shape");
    TCase *tc = tcase_create("shape");
    tcase_add_test(tc, t_conv);
    tcase_add_test(tc, t_conv_bad);
    tcase_add_test(tc, t_linear_matmul_norm);
    tcase_add_test(tc, t_binary);
    tcase_add_test(tc, t_tensor);
    tcase_add_test(tc, t_pool);
    tcase_add_test(tc, t_upsample);
    suite_add_tcase(s, tc);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(op_shape_suite)
