// The podm model language. A model file names the fidelity f, the prior g, the distance d to the
// output of a network A, and the stage structure of an optimization-derived deep model (PODM).
// See docs/language.md for the tour. Statements end at a newline or ';'; the front end drops
// newlines inside (), [] and after a binary operator, so long expressions may span lines.
grammar Podm;

// ------------------------------------------------------------------------------------ parser --

program     : sep? modelHeader (sep decl)* sep? EOF ;
sep         : (NEWLINE | ';')+ ;
modelHeader : MODEL name=ID ;
// The expression inside `{...}` of an interpolated string, parsed on its own.
interpolation : expr EOF ;

decl
  : INPUT name=ID ':' type=typeSpec (OPTIONAL | '=' def=expr)?      # inputDecl
  | CONST name=ID '=' value=expr                                      # constDecl
  | PARAM name=ID index? '=' value=expr                               # paramDecl
  | OP name=ID '=' value=expr                                         # opDecl
  | VAR name=ID (':' type=typeSpec)? ('=' init=expr)?                 # varDecl
  | name=ID '(' params=idList ')' '=' body=expr                       # termDecl
  | NET name=ID index? '=' body=expr netWeights?                      # netDecl
  | SCHEDULE name=ID '=' value=expr                                   # scheduleDecl
  | STAGES count=primary solver=ID block?                             # stagesDecl
  | MONITOR expr (',' expr)*                                          # monitorDecl
  | OUTPUT value=expr                                                 # outputDecl
  ;

// `weights` may start the next line: no declaration begins with it.
netWeights : NEWLINE? WEIGHTS file=expr (PREFIX prefix=expr)? ;
index    : '[' ID ']' ;
idList   : ID (',' ID)* ;
typeSpec : ID ('(' expr (',' expr)* ')')? ;
block    : '{' sep? (setting (sep setting)*)? sep? '}' ;
setting
  : name=ID '=' value=expr    # assignSetting
  | STOP cond=expr            # stopSetting
  ;

// Precedence from tightest to loosest: postfix (' . []), ^, unary -, application by
// juxtaposition (K x), * /, + -, comparisons, and, or.
expr
  : primary                                         # primaryExpr
  | expr ADJ                                         # adjointExpr
  | expr '.' ID                                     # memberExpr
  | expr '[' expr ']'                               # indexExpr
  | <assoc=right> expr '^' expr                     # powerExpr
  | '-' expr                                        # negExpr
  | expr applyArg                                   # applyExpr
  | expr op=('*' | '/') expr                        # mulExpr
  | expr op=('+' | '-') expr                        # addExpr
  | expr op=('<' | '<=' | '>' | '>=') expr          # compareExpr
  | expr AND expr                                   # andExpr
  | expr OR expr                                    # orExpr
  ;

// The right operand of an application: a primary with its postfix adjoints, so `K W' x` reads as
// K applied to W' applied to x.
applyArg : primary ADJ* ;

primary
  : NUMBER                                          # numberLit
  | STRING                                          # stringLit
  | (TRUE | FALSE)                                  # boolLit
  | ID '(' (arg (',' arg)*)? ')'                    # callExpr
  | ID                                              # nameExpr
  | '(' expr ')'                                    # parenExpr
  | NORM expr NORM ('_' sub=(NUMBER | ID))?         # normExpr
  | '[' (expr (',' expr)*)? ']'                     # listExpr
  | LAYERS '{' sep? (expr (sep expr)*)? sep? '}'    # layersExpr
  ;

arg : (name=ID '=')? value=expr ;

// ------------------------------------------------------------------------------------- lexer --

MODEL    : 'model' ;
INPUT    : 'input' ;
CONST    : 'const' ;
PARAM    : 'param' ;
OP       : 'op' ;
VAR      : 'var' ;
NET      : 'net' ;
WEIGHTS  : 'weights' ;
PREFIX   : 'prefix' ;
SCHEDULE : 'schedule' ;
STAGES   : 'stages' ;
MONITOR  : 'monitor' ;
OUTPUT   : 'output' ;
STOP     : 'stop' ;
OPTIONAL : 'optional' ;
LAYERS   : 'layers' ;
TRUE     : 'true' ;
FALSE    : 'false' ;
AND      : 'and' ;
OR       : 'or' ;

NORM     : '||' ;
ADJ      : '\'' ;
LPAREN   : '(' ;
RPAREN   : ')' ;
LBRACK   : '[' ;
RBRACK   : ']' ;
LBRACE   : '{' ;
RBRACE   : '}' ;
ASSIGN   : '=' ;
COMMA    : ',' ;
COLON    : ':' ;
SEMI     : ';' ;
DOT      : '.' ;
PLUS     : '+' ;
MINUS    : '-' ;
STAR     : '*' ;
SLASH    : '/' ;
CARET    : '^' ;
LT       : '<' ;
LE       : '<=' ;
GT       : '>' ;
GE       : '>=' ;
UNDERSCORE : '_' ;

NUMBER : DIGITS ('.' DIGITS?)? EXPONENT? | '.' DIGITS EXPONENT? ;
STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
ID     : [a-zA-Z] [a-zA-Z0-9_]* ;

NEWLINE      : '\r'? '\n' | '\r' ;
LINE_CONT    : '\\' [ \t]* '\r'? '\n' -> skip ;
COMMENT      : '#' ~[\r\n]* -> skip ;
WS           : [ \t\f]+ -> skip ;

// Tokens the parser never accepts; the front end turns them into precise diagnostics.
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* ;
BAD_CHAR            : . ;

fragment DIGITS   : [0-9]+ ;
fragment EXPONENT : [eE] [+-]? DIGITS ;
