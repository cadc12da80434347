import * as tf from '@tensorflow/tfjs';
import type { ParamGroupConfig, ResolvedGroup } from './param-groups.ts';

/** What an update rule sees for one variable at one step. */
export interface UpdateInput {
  param: tf.Variable;
  /** The loss gradient (weight decay not yet added). */
  grad: tf.Tensor;
  /** The rule's per-variable state, created as zeros, in `slots` order. */
  slots: tf.Variable[];
  lr: number;
  weightDecay: number;
  /** 1-based count of updates applied so far, this one included. */
  step: number;
}

/** How one optimizer updates a variable (e.g. Adam); PyTorch semantics. */
export interface UpdateRule {
  /** Names of the per-variable state tensors (e.g. ['m', 'v']). */
  slots: string[];
  /** Applies one update in place; called inside tf.tidy. */
  update(input: UpdateInput): void;
}

/** What an optimizer component builds: the default hyper-parameters, groups and its rule. */
export interface OptimizerSpec {
  lr: number;
  weightDecay: number;
  paramGroups: ParamGroupConfig[];
  rule: UpdateRule;
}

/** Applies a rule per parameter group, each group with its own learning rate and weight decay. */
export class GroupedOptimizer {
  private readonly state = new Map<string, tf.Variable[]>();
  /** Current learning rate of each trainable group by name (a schedule changes it; `groups` keep the initial one). */
  private readonly rates = new Map<string, number>();
  private step = 0;

  constructor(
    private readonly rule: UpdateRule,
    readonly groups: ResolvedGroup[],
  ) {
    for (const group of this.trainableGroups()) {
      if (this.rates.has(group.name)) throw new Error(`parameter group name '${group.name}' is used twice`);
      this.rates.set(group.name, group.lr);
    }
    for (const group of this.trainableGroups()) {
      for (const variable of group.variables) {
        const value = variableOf(variable);
        this.state.set(
          value.name,
          rule.slots.map(() => tf.tidy(() => tf.variable(tf.zerosLike(value), false))),
        );
      }
    }
  }

  /** Variables that receive gradients (all groups except frozen ones). */
  trainableVariables(): tf.Variable[] {
    return this.trainableGroups().flatMap((g) => g.variables.map((v) => variableOf(v)));
  }

  /** Applies one update from gradients keyed by variable name (as tf.variableGrads returns them). */
  apply(grads: tf.NamedTensorMap): void {
    this.step++;
    tf.tidy(() => {
      for (const group of this.trainableGroups()) {
        for (const variable of group.variables) {
          const param = variableOf(variable);
          const grad = grads[param.name];
          if (!grad) continue;
          const slots = this.state.get(param.name)!;
          this.rule.update({ param, grad, slots, lr: this.rates.get(group.name)!, weightDecay: group.weightDecay, step: this.step });
        }
      }
    });
  }

  /** Every slot variable (e.g. Adam's moments) with a name for messages, in a fixed order: for checkpoints. */
  slotVariables(): Array<{ name: string; variable: tf.Variable }> {
    return [...this.state.entries()].flatMap(([name, slots]) =>
      slots.map((variable, i) => ({ name: `${name}/${this.rule.slots[i]}`, variable })),
    );
  }

  /** Updates applied so far (Adam's bias correction and SGD's first momentum step depend on it). */
  get updates(): number {
    return this.step;
  }

  /** Sets the update count (restoring a checkpoint). */
  set updates(count: number) {
    this.step = count;
  }

  /** Current learning rate of each group by name, for metrics (`lr/<group>`); frozen groups report 0. */
  learningRates(): Record<string, number> {
    return Object.fromEntries(
      this.groups.filter((g) => g.variables.length > 0).map((g) => [g.name, g.trainable ? this.rates.get(g.name)! : 0]),
    );
  }

  /** Initial learning rate of each trainable group by name (what a schedule scales; frozen groups are left out). */
  baseLearningRates(): Record<string, number> {
    return Object.fromEntries(this.trainableGroups().map((g) => [g.name, g.lr]));
  }

  /** Sets the current learning rate of the named trainable groups (the others keep theirs); an unknown or frozen name throws. */
  setLearningRates(rates: Record<string, number>): void {
    for (const [name, rate] of Object.entries(rates)) {
      if (!this.rates.has(name)) throw new Error(`no trainable parameter group '${name}' (groups: ${[...this.rates.keys()].join(', ')})`);
      if (!Number.isFinite(rate) || rate < 0) throw new Error(`learning rate of group '${name}' must be a finite number ≥ 0, got ${rate}`);
      this.rates.set(name, rate);
    }
  }

  /** Releases the optimizer state. */
  dispose(): void {
    for (const slots of this.state.values()) for (const slot of slots) slot.dispose();
    this.state.clear();
  }

  private trainableGroups(): ResolvedGroup[] {
    return this.groups.filter((g) => g.trainable);
  }
}

/** Adds PyTorch-style (L2, coupled) weight decay to a gradient. */
export function withWeightDecay(grad: tf.Tensor, param: tf.Tensor, weightDecay: number): tf.Tensor {
  return weightDecay === 0 ? grad : tf.add(grad, tf.mul(param, weightDecay));
}

/** The tf.Variable behind a layer variable (tfjs types `read()` as a plain Tensor). */
export function variableOf(layerVariable: tf.LayerVariable): tf.Variable {
  const value = layerVariable.read();
  if (!(value instanceof tf.Variable)) throw new Error(`layer variable ${layerVariable.name} holds no tf.Variable`);
  return value;
}
