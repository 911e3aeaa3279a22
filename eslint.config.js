import { config } from '@org/eslint-config';

export default config();
