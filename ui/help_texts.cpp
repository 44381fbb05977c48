// What the studio says about its knobs and charts: a tip (what the control is) and a What's-This text (what
// it does, what it costs, what to expect). One place, so the words stay consistent and a teacher can read
// them all.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>

#include "ui/charts.h"
#include "ui/help.h"
#include "ui/lesson_player.h"
#include "ui/prune_group_table.h"
#include "ui/train_panel.h"
#include "ui/tuning_panel.h"

namespace edgetune::ui {

void TuningPanel::explainKnobs() {
  explain(cleanup_, "Clean up the graph before anything else",
          "Folds constants and BatchNorm into the convolutions before them and removes Identity and Dropout "
          "nodes. The outputs do not change; exports from PyTorch get noticeably simpler and faster. Costs "
          "nothing; leave it on unless you study the graph exactly as exported.");
  explain(
      prune_method_, "How weights are removed",
      "<b>Structured channels</b> removes whole filters (and attention heads / FFN neurons in transformers): "
      "the model really gets smaller and faster in every runtime. <b>Unstructured magnitude</b> zeroes "
      "single small weights: the file compresses better, but the model is not faster on a CPU.");
  explain(
      ratio_, "Share of channels (or weights) removed in every group",
      "0% keeps everything; 50% removes half of every prunable group. Size and MACs fall at once; latency "
      "follows for structured pruning. Expect accuracy to hold up to about 20-30% and then collapse: a "
      "model pruned further needs recovery training (Training dock, Distill from the baseline).");
  explain(protect_, "Layers that are never pruned",
          "A regular expression over node names (RE2, e.g. <tt>conv1|fc</tt>). The first convolution and the "
          "classifier are often worth protecting: they are small and sensitive.");
  explain(round_to_, "Kept channel counts are rounded to a multiple of this",
          "Fast INT8 and SIMD kernels like channel counts that are multiples of 8; a pruned layer with 61 "
          "channels can run slower than one with 64. 1 = no rounding. Structured channel pruning only.");
  explain(groups_table_, "One pruning ratio per group of coupled layers",
          "Layers joined by a residual connection must lose the same channels; each row is such a group. A "
          "ratio here overrides the global one for that group. Select a row to see its nodes in the graph.");
  explain(allocate_metric_, "What the allocation budget limits",
          "Latency is measured with ONNX Runtime on this computer; MACs and parameters are counted exactly.");
  explain(allocate_keep_, "The budget: how much of the original may remain",
          "50% asks for a model at most half as slow (or half the MACs or parameters) as the original.");
  explain(allocate_, "Fill the per-group ratios from the sensitivity sweep",
          "Insensitive groups are pruned more and sensitive ones less, until the budget is met. Run a "
          "sensitivity sweep first (Ctrl+Shift+Y); it measures how accuracy falls as each group is pruned "
          "alone.");
  explain(
      quant_mode_, "How numbers are stored and computed",
      "<b>INT8 static</b>: weights and activations in 8 bits, scales calibrated on sample data; about 4x "
      "smaller, and faster where the CPU has integer dot-product instructions (AVX-512 VNNI, Arm "
      "dot-product); "
      "on an AVX2-only CPU it can be slower than float for small models. <b>INT8 dynamic</b>: activations "
      "scaled at run time, best for transformers. <b>Weight-only</b>: smaller file, float compute. "
      "<b>FP16</b>: half the size; slower on CPUs without native half-precision arithmetic.");
  explain(calibration_, "How static INT8 picks each activation's range",
          "<b>minmax</b> keeps every value and is robust; <b>percentile</b> and <b>entropy</b> clip rare "
          "outliers, which helps when a few huge activations waste the 256 levels; <b>mse</b> minimizes the "
          "rounding error. Try minmax first.");
  explain(samples_, "Examples used to calibrate static INT8",
          "More examples give steadier ranges and take longer; 256 to 512 are usually enough.");
  explain(per_channel_, "One INT8 scale per output channel of each weight",
          "Almost always more accurate than one scale per tensor, at no cost in speed.");
  explain(
      exclude_, "Nodes kept in float",
      "Comma-separated regular expressions over node names. Keep the layers that lose the most accuracy in "
      "INT8 in float (Run &gt; Diagnose quantization error finds them), or pick them in the graph.");
  explain(
      apply_, "Record the current recipe and its measurements as a variant (Ctrl+Return)",
      "The variant appears in the Variants table and on the Pareto chart. Nothing is written to disk until "
      "you export it or save the project.");
  explain(live_label_, "What the last measurement found",
          "Size and MACs are exact; latency is the median of repeated ONNX Runtime runs on this computer; "
          "accuracy is estimated on a growing share of the dataset, with its 95% interval.");
  explain(recipe_view_, "The recipe the knobs make",
          "The passes in the order they run, by registry name: the same recipe edgetune-cli runs.");
}

void TrainPanel::explainKnobs() {
  explain(mode_, "Distill from the original, or fine-tune with labels",
          "<b>Distill</b>: the original model is the teacher; the trained model learns its soft predictions "
          "(temperature T, weight alpha) as well as the labels, which recovers a pruned model best. "
          "<b>Fine-tune</b>: the labels only; pruned weights stay zero.");
  explain(source_, "Which model is trained",
          "A student from the zoo or a file (distillation into a smaller model), the variant selected in the "
          "Variants table (recovery after pruning), or the current base.");
  explain(student_, "The student model",
          "A model-zoo source (zoo:ARCH?key=value&amp;...) or an ONNX file; its class count must match the "
          "dataset's.");
  explain(
      epochs_, "Passes over the training data",
      "More epochs recover more accuracy and take proportionally longer; the Training chart shows the loss "
      "and validation accuracy after each one.");
  explain(batch_, "Examples per training step",
          "Larger batches run faster per example and need more memory; BatchNorm needs at least 2.");
  explain(
      learning_rate_, "Step size of the optimizer",
      "Follows the source until you change it: 0.05 (SGD) for a student trained from scratch, 0.001 for a "
      "trained or pruned model, whose knowledge a large step destroys. A run whose loss turns NaN, or whose "
      "accuracy falls to chance, stops and keeps nothing.");
  explain(check_rate_, "Quick learning-rate check",
          "Trains a copy of the source for 20 steps at each of five rates around this one (a tenth to ten "
          "times), from the same weights on the same batches, and sets the rate whose loss fell lowest; a "
          "rate whose loss rose or turned NaN is marked too large. Takes a few seconds for the demo models; "
          "labels only, so a distillation's teacher is not run.");
  explain(optimizer_, "The optimizer",
          "SGD with Nesterov momentum for CNNs; AdamW is the usual choice for transformers.");
  explain(
      temperature_, "Distillation temperature T",
      "Softens the teacher's predictions so that the student learns which wrong classes are close; 2 to 4 "
      "is typical.");
  explain(alpha_, "Weight of the teacher's soft targets",
          "1 - alpha goes to the labels. 0.5 to 0.9 is typical for recovery.");
  explain(augment_, "Random crop and horizontal flip of training images",
          "Reduces over-fitting in longer runs; costs a little time per step.");
  explain(steps_, "Limit the steps per epoch (0 = all of the training split)",
          "For a quick check of the learning rate before a full run.");
  explain(
      validation_size_, "Examples held out for the per-epoch accuracy and the final measurement",
      "The dataset spec's own seeded split (subset=val&amp;val_count=N&amp;seed=...), which a saved recipe "
      "names too.");
  explain(start_, "Start training as a job",
          "Progress and an ETA show in the Jobs tab; the trained model becomes a new variant.");
  explain(cancel_, "Stop the running training", "Nothing is recorded from a cancelled run.");
}

void LessonPlayer::explainButtons() {
  explain(back_, "Previous step of the lesson (Alt+Left)",
          "Shows the step before again and sets its knobs and views again; the jobs it ran (Apply, a "
          "sensitivity sweep, training) are not run a second time.");
  explain(next_, "Next step of the lesson (Alt+Right)",
          "Does what the next step says (sets knobs, opens a model, starts a job) and frames the widget to "
          "look at. Jobs run in the background: wait for the chart or table the step points at to fill.");
  explain(close_, "End the lesson",
          "Removes the frame and hides this dock. The knobs, variants and trained models stay as they are; "
          "Edit &gt; Undo takes the knob changes back.");
}

void explainCharts(KnobChart* live, ParetoChart* pareto, TrainingChart* training,
                   SensitivityChart* sensitivity) {
  explain(
      live, "Live: size, latency and accuracy against the knob on the x axis, one line per configuration",
      "Each point is one measured setting (the vertical line marks the current one). A line joins only "
      "points whose other knobs are all equal, and the legend names that configuration; choose the x-axis "
      "knob above the chart. Size (MB) is exact, latency (ms, batch 1, this computer) is a median of "
      "repeated runs, accuracy (%) an estimate with its 95% band (for the current line) that narrows as more "
      "of the dataset is evaluated. A dashed line, where shown, is the accuracy after a quick recovery: each "
      "layer's output statistics re-estimated on a few hundred examples, no training. The chart starts "
      "afresh for each model.");
  explain(pareto, "Pareto: every variant's latency (ms) against its accuracy (%)",
          "Up and to the left is better. The line joins the variants no other variant beats on both; click a "
          "point to select its variant. Without a dataset it shows size (MB) against latency instead.");
  explain(training, "Training: loss and validation accuracy (%) per epoch",
          "Loss should fall; if validation accuracy stops rising while the loss still falls, the model is "
          "over-fitting and more epochs will not help.");
  explain(sensitivity, "Sensitivity: accuracy (%) as each group alone is pruned",
          "Flat curves mark groups that can be pruned hard; steep ones need protecting. Allocate uses these "
          "curves to spread a pruning budget where it costs least.");
}

}  // namespace edgetune::ui
