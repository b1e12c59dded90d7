//! Issue 18: the tokens, loss, cost, training and quant views under zh show
//! no English from the string table.
