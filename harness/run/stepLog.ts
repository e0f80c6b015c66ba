/** A run's progress reports, and the one its training stages send every few steps. */
export type Progress = (msg: { stage: string; detail?: string }) => void;

export function stepLogger(progress: Progress, stage: string, epochs: number) {
  return (i: { epoch: number; step: number; steps: number; loss: number }) => {
    if (i.step % 10 === 0 || i.step === i.steps - 1) {
      progress({ stage, detail: `epoch ${i.epoch + 1}/${epochs} step ${i.step + 1}/${i.steps} loss ${i.loss.toFixed(3)}` });
    }
  };
}
