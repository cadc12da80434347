/**
 * TextCNN's conv1d → ReLU → max-over-time pooling as one differentiable function whose backward pass
 * visits only the pooled positions. Max pooling passes each channel's gradient to one time step, so
 * the convolution's gradients are sums over those steps alone: gathers and a scatter of
 * `batch × channels × kernel` rows, where the dense Conv2DBackpropFilter / Conv2DBackpropInput of
 * tfjs's autodiff go over every time step (about 500× the work for IMDb's 500 tokens). The forward
 * pass is the same convolution; the maths is the same as the layers' (a tie between two time steps
 * at the exact same maximum sends the gradient to the first, as PyTorch's max pooling does, where
 * tfjs's would split it).
 */
import * as tf from '@tensorflow/tfjs';

/**
 * `[batch, out]`: max over time of relu(conv1d(x, kernel) + bias) with 'valid' padding and stride 1,
 * differentiable in x `[batch, time, in]`, kernel `[k, in, out]` and bias `[out]`.
 */
export function convReluMaxPool(x: tf.Tensor3D, kernel: tf.Tensor3D, bias: tf.Tensor1D): tf.Tensor2D {
  const fn = tf.customGrad((input, weights, offset, save) => {
    const [x, kernel, bias] = [input as tf.Tensor3D, weights as tf.Tensor3D, offset as tf.Tensor1D];
    const activations = tf.relu(tf.add(tf.conv1d(x, kernel, 1, 'valid'), bias)) as tf.Tensor3D;
    const pooled = tf.max(activations, 1) as tf.Tensor2D;
    const positions = tf.argMax(activations, 1) as tf.Tensor2D; // [batch, out]: the time step each channel keeps
    (save as tf.GradSaveFunc)([x, kernel, pooled, positions]);
    return { value: pooled, gradFunc: (dy, saved) => poolGradients(dy as tf.Tensor2D, saved as tf.Tensor[]) };
  });
  return fn(x, kernel, bias) as tf.Tensor2D;
}

/** Gradients of x, kernel and bias from the pooled output's gradient, through the kept positions only. */
function poolGradients(dy: tf.Tensor2D, [x, kernel, pooled, positions]: tf.Tensor[]): tf.Tensor[] {
  const [batch, time, channelsIn] = x!.shape as [number, number, number];
  const [k, , channelsOut] = kernel!.shape as [number, number, number];
  const g = tf.mul(dy, tf.cast(tf.greater(pooled!, 0), 'float32')) as tf.Tensor2D; // ReLU: zero where the max was clipped
  // Input rows under each kept window: x[b, positions[b, o] + j] for every (b, o, j): indices [batch, out, k, 2].
  const rows = tf.add(tf.expandDims(positions!, 2), tf.range(0, k, 1, 'int32')) as tf.Tensor3D;
  const examples = tf.broadcastTo(tf.reshape(tf.range(0, batch, 1, 'int32'), [batch, 1, 1]), [batch, channelsOut, k]);
  const indices = tf.stack([examples, rows], 3);
  const windows = tf.gatherND(x!, indices) as tf.Tensor4D; // [batch, out, k, in]
  const weighted = tf.expandDims(tf.expandDims(g, 2), 3); // [batch, out, 1, 1]
  // dKernel[j, c, o] = Σ_b g[b, o] · x[b, positions[b, o] + j, c]
  const dKernel = tf.transpose(tf.sum(tf.mul(windows, weighted), 0), [1, 2, 0]); // [out, k, in] → [k, in, out]
  // dX[b, positions[b, o] + j, c] += g[b, o] · kernel[j, c, o]
  const contributions = tf.mul(tf.expandDims(tf.transpose(kernel!, [2, 0, 1]), 0), weighted); // [batch, out, k, in]
  const dX = tf.scatterND(
    tf.reshape(indices, [batch * channelsOut * k, 2]),
    tf.reshape(contributions, [batch * channelsOut * k, channelsIn]),
    [batch, time, channelsIn],
  );
  return [dX, dKernel, tf.sum(g, 0)];
}
