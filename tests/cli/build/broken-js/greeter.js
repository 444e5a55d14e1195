export const greeter = {
  greet(name) {
    return `Hello, ${name}!`;
  },
;
