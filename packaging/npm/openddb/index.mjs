// The ES module entry: the same functions as index.js (one implementation).
import api from './index.js';

export const { start, binaryPath, platformKey, Server } = api;
export default api;
