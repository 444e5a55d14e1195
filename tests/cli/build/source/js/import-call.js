import { write } from 'demo:names/log@0.1.0';

export const tidy = {
  initials(name, upper) {
    write({ level: 1, txt: name });
    return name[0];
  },
  count(text) {
    write({ level: 1, text }, text);
    return text.split(' ').length;
  },
};
