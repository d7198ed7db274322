// The component's entry: componentize-js exports `provider`.
import { exportPlugin } from '@hintd/plugin/component';
import { Retrieval } from './plugin.js';

export const provider = exportPlugin(Retrieval);
