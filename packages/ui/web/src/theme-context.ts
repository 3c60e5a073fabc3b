import { createContext } from 'react';
import type { Theme } from './theme';

/** The current theme, so charts redraw with its colours when it changes. */
export const ThemeContext = createContext<Theme>('light');
