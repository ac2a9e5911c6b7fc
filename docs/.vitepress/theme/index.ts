import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';

import Playground from './Playground.vue';

/** The default theme plus the playground component (used by docs/playground.md). */
const theme: Theme = {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('Playground', Playground);
  },
};
export default theme;
