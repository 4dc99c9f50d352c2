import { useEffect, useReducer } from 'react';
import type { RuntimeImagesModel } from '../model';

/**
 * Re-render a component whenever the model's state changes.
 */
export function useModelState(model: RuntimeImagesModel): void {
  const [, forceUpdate] = useReducer((x: number) => x + 1, 0);
  useEffect(() => {
    const onChange = () => forceUpdate();
    model.stateChanged.connect(onChange);
    return () => {
      model.stateChanged.disconnect(onChange);
    };
  }, [model]);
}
